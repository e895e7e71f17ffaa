"""A resident's first visit and a mistake, through the shipped nginx site in front of a real
waitress server: nothing a browser asks for on a first visit is a 404 (favicon, robots.txt,
the page's own files), and after "not found" and 「入力画面に戻る」 no log line on the host
(nginx's access and error logs, the app's log) holds the number or the birth date typed."""

import logging
from urllib.parse import urlencode

from tests.integration.servers import WaitressThread
from tests.integration.test_mirror_web_breaks import Nginx

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TYPED = {"programme": "p2024", "receipt_number": "7351-9246", "birth_era": "showa",
         "birth_year": "47", "birth_month": "11", "birth_day": "23", "lang": "ja"}
TRACES = (b"73519246", b"7351-9246", b"9246", b"1972", b"birth_year")


def test_a_first_visit_meets_no_404_and_a_mistake_leaves_no_trace(public_host, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    public_host.publish()
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"})
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        for path in ("/", "/favicon.ico", "/robots.txt", "/static/favicon.svg",
                     "/static/mirror.css", "/theme.css", "/?lang=ja-easy"):
            status, body = nginx.request("GET", path)
            assert status == 200 and body, path
        status, robots = nginx.request("GET", "/robots.txt")
        assert b"Disallow: /lookup" in robots and b"Disallow: /api/" in robots
        status, page = nginx.request("POST", "/lookup", urlencode(TYPED).encode(), FORM)
        assert status == 200 and "入力した内容".encode() in page and b'value="73519246"' in page
        status, back = nginx.request("POST", "/", urlencode(
            {**TYPED, "receipt_number": "73519246"}).encode(), FORM)
        assert status == 200 and b'value="73519246"' in back
    logs = b"".join(path.read_bytes() for path in (tmp_path / "nginx").glob("*.log"))
    assert b"POST /lookup" in logs and b"POST / " in logs
    assert not [trace for trace in TRACES if trace in logs]
    assert not [trace for trace in TRACES if trace.decode() in caplog.text]
