"""Issue 25: a third-party page made a visitor's browser post lookups (a plain form, no
script), spending that visitor's budget until their own lookups were refused. A post a
browser says came from another site is refused before anything is counted; the no-JS form
and the API's documented use (tools, which send neither header) work as before."""

import json

import pytest

EVIL = {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"}


def ask(app, number, status="*", headers=None, **fields):
    return app.post("/lookup", {"programme": "p2020", "receipt_number": number, **fields},
                    extra_environ=headers or {}, status=status)


@pytest.mark.parametrize("headers", [
    EVIL,
    {"HTTP_SEC_FETCH_SITE": "same-site"},
    {"HTTP_ORIGIN": "https://evil.example"},                # an older browser: Origin only
    {"HTTP_ORIGIN": "null"},                                 # a sandboxed frame
], ids=["cross-site", "same-site", "origin-only", "null-origin"])
def test_another_sites_page_cannot_spend_a_visitors_budget(public_host, headers):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "2"})
    for n in range(5):
        refused = ask(app, f"9000000{n}", 403, headers)
        assert "ほかのサイトからの照会は受け付けていません" in refused.text
    # The visitor's own lookups still count from zero.
    own = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://localhost"}
    for n in range(2):
        ask(app, f"9100000{n}", 200, own)
    ask(app, "91000009", 429, own)


def test_the_refusal_reads_in_every_language(public_host):
    public_host.publish()
    app = public_host.app()
    english = app.post("/lookup?lang=en", {"programme": "p2020", "receipt_number": "1"},
                       content_type="multipart/form-data", extra_environ=EVIL, status=403)
    assert "Lookups sent from other websites are not accepted" in english.text


def test_the_plain_form_and_direct_tools_are_answered(public_host):
    public_host.publish()
    app = public_host.app()
    assert "振込予定です" in ask(app, "00000002", 200).text                    # no headers
    same = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://localhost",
            "HTTP_HOST": "localhost"}
    assert "振込予定です" in ask(app, "00000002", 200, same).text
    assert ask(app, "00000002", 200, {"HTTP_ORIGIN": "http://localhost",
                                      "HTTP_HOST": "localhost"}).status_int == 200


def test_the_api_refuses_a_browsers_cross_site_post_and_answers_tools(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "2"})
    body = json.dumps({"programme": "p2020", "receipt_number": "90000001"})
    for _ in range(5):   # text/plain: a "simple" request a page may send without asking
        refused = app.post("/api/v1/lookup", body, content_type="text/plain",
                           extra_environ=EVIL, status=403)
        assert refused.json == {"result": "refused", "reason": "cross_site"}
    answered = app.post("/api/v1/lookup", body, content_type="application/json", status=200)
    assert answered.json["result"] == "not_found"
