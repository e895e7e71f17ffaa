"""Issue 25 item 6: the public host never falls over and never lies — each attack performed
against a real server, through the shipped nginx site where a resident's request goes."""

import json
from urllib.parse import quote_from_bytes

from tests.integration.servers import WaitressThread
from tests.integration.test_mirror_web_breaks import Nginx

FOUND = {"programme": "p2020", "receipt_number": "00000002", "lang": "en"}
FORM = "application/x-www-form-urlencoded"

# --- a language-switch proof that is not one ------------------------------------------

# Six values × three shells: within nginx's flood guard (burst 20). The many-valued fuzz
# runs without nginx (tests/functional/mirror/test_language_switch_proof.py).
HOSTILE_PROOFS = ["é" * 32, "証明", "0" * 31 + "\x00", "%C3%A9", "😀", "\ud800"]


def multipart(fields: dict) -> tuple[bytes, str]:
    boundary = "proofboundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             .encode() + value.encode("utf-8", "surrogatepass") + b"\r\n"
             for name, value in fields.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


def test_a_non_ascii_language_switch_proof_is_never_a_500_through_nginx(public_host, tmp_path):
    """The attack: the hidden ``asked`` field of an answer's language buttons replaced by
    non-ASCII text (once a 500 on page, form and API). Each is now an ordinary lookup."""
    public_host.publish()
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"})
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        for value in HOSTILE_PROOFS:
            raw = quote_from_bytes(value.encode("utf-8", "surrogatepass")).encode()
            fields = "&".join(f"{k}={v}" for k, v in FOUND.items()).encode()
            status, page = nginx.request("POST", "/lookup", fields + b"&asked=" + raw,
                                         {"Content-Type": FORM})
            assert status in (200, 400), (value, status)
            assert status == 400 or b"Payment scheduled" in page
            body, kind = multipart({**FOUND, "asked": value})
            status, page = nginx.request("POST", "/lookup", body, {"Content-Type": kind})
            assert status in (200, 400), (value, status)
            status, answer = nginx.request("POST", "/api/v1/lookup",
                                           json.dumps({**FOUND, "asked": value}).encode(),
                                           {"Content-Type": "application/json"})
            assert status == 200 and json.loads(answer)["result"] == "found", (value, status)
