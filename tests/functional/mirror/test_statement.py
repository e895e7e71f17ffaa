"""The accessibility statement, in three languages, with the last automated check."""

import pytest


@pytest.mark.parametrize("lang, title, result", [
    ("ja", "ウェブアクセシビリティ方針", "基準に合わない点は見つかりませんでした"),
    ("en", "Accessibility statement", "no failures against the standard were found"),
    ("ja-easy", "つかいやすさの きまり", "あわない ところは ありませんでした"),
])
def test_statement_in_every_language(mirror, lang, title, result):
    page = mirror.get("/accessibility", {"lang": lang})
    assert title in page.text and "JIS X 8341-3:2016" in page.text and "WCAG 2.2" in page.text
    assert result in page.text and "axe-core" in page.text
    assert f'href="/accessibility{"" if lang == "ja" else "?lang=" + lang}"' in \
        mirror.get("/", {"lang": lang}).text


def test_the_date_and_result_come_from_the_last_recorded_check(tmp_path):
    from public_mirror.statement import last_check, record_check

    record_check(42, 0, "axe-core 4.14.1 (Chromium)", tmp_path / "a.json")
    check = last_check(tmp_path / "a.json")
    assert check["pages"] == 42 and check["violations"] == 0 and check["checked_on"].year >= 2026
