"""/p/<code>: the form with the programme chosen, from the notice letter's link or QR code."""

import re


def test_the_link_opens_the_form_with_the_programme_chosen(mirror):
    page = mirror.get("/p/p2024", {"lang": "en"})
    assert page.status_int == 200 and '<html lang="en">' in page.text
    assert re.search(r'value="p2024" id="[^"]*" checked', page.text)
    assert not re.search(r'value="p2020" id="[^"]*" checked', page.text)
    # Changing language keeps the programme chosen.
    assert 'href="/p/p2024?lang=ja-easy"' in page.text and 'href="/p/p2024"' in page.text


def test_an_unknown_programme_is_the_residents_404(mirror):
    page = mirror.get("/p/no-such", status=404)
    assert "ページが見つかりません" in page.text and "入力画面に戻る" in page.text
