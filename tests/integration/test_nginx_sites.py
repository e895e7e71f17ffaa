"""The shipped nginx sites, run: terminals that share one address (VDI, 画面転送) can all
log in at once; a machine hammering the login form is held back with a Japanese page; an
app that is down gives a Japanese page, not nginx's English one."""

import http.client
import ssl

import pytest

from lab.databases import free_port
from lab.deploy_sites import nginx_config, serving
from lab.servers import WaitressThread


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


@pytest.fixture
def intranet_site(tmp_path):
    """The intranet site on a free port in front of a stand-in app; yields (port, app)."""
    with WaitressThread(ok_app) as app:
        port = free_port()
        with serving(nginx_config(tmp_path, "intranet", port=port, backend=app.port), port):
            yield port, app


def connect(port):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)


def post_login(port, connection=None):
    """One login POST; on ``connection`` (kept alive) when given, else on its own."""
    own = connection is None
    connection = connection or connect(port)
    try:
        connection.request("POST", "/login", body="username=a&password=b",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        if own:
            connection.close()


def test_a_floor_of_terminals_behind_one_address_logs_in_at_once(intranet_site):
    port, _ = intranet_site
    statuses = [post_login(port)[0] for _ in range(50)]
    assert statuses == [200] * 50


def test_hammering_the_login_form_is_held_back_with_a_japanese_page(intranet_site):
    port, _ = intranet_site
    # One kept-alive connection: 400 posts go far faster than the 2 a second the limit
    # refills, however busy the machine (no TLS handshake between them).
    connection = connect(port)
    try:
        answers = [post_login(port, connection) for _ in range(400)]
    finally:
        connection.close()
    held = [body for status, body in answers if status == 429]
    assert held, "400 logins in a burst from one address were all let through"
    assert 'lang="ja"' in held[0] and "アクセスが集中しています" in held[0]


def test_an_app_that_is_down_answers_in_japanese(intranet_site):
    port, app = intranet_site
    app.__exit__(None, None, None)
    status, body = post_login(port)
    assert status == 502
    assert "ただいま準備中です" in body and "nginx" not in body
