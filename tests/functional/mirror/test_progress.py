"""Progress in the open: the share paid per programme, as of the snapshot; small counts never."""

import re

import pytest

from tests.mirror_fixtures import PROGRAMMES


@pytest.mark.parametrize("lang, line", [
    ("ja", "申請のうち 85% の振込が完了しました"),
    ("en", "Payment has been made for 85% of applications"),
    ("ja-easy", "の うち 85% に お"),
])
def test_the_form_shows_the_share_paid_per_programme(mirror, lang, line):
    page = mirror.get("/", {"lang": lang})
    assert line in page.text
    progress = page.text.split('class="progress"')[1].split("</section>")[0]
    assert progress.count("<li>") == 1   # p2024 has too few applications to publish


def test_the_api_gives_the_same_with_small_counts_suppressed(mirror):
    body = mirror.get("/api/v1/progress").json
    assert body["result"] == "progress" and body["as_of"]
    shares = {p["programme"]: (p["paid_percent"], p["applications"]) for p in body["programmes"]}
    assert shares == {"p2020": (85, 1200), "p2024": (None, None)}


def test_the_number_keyboard_follows_the_programmes_numbers(public_host):
    digits = [{**p, "receipt_digits_only": True} for p in PROGRAMMES]
    public_host.publish(programmes=digits)
    app = public_host.app()
    assert re.search(r'id="receipt_number"[^>]*inputmode="numeric"', app.get("/").text)
    public_host.publish()   # p2024's numbers hold letters
    app = public_host.app()
    assert re.search(r'id="receipt_number"[^>]*inputmode="text"', app.get("/").text)
    assert re.search(r'id="receipt_number"[^>]*inputmode="numeric"', app.get("/p/p2020").text)
