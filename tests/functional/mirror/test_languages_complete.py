"""Every site text in every language, furigana on やさしい日本語 pages, start-up refusing gaps."""

import pytest

from lab.mirror_fixtures import STATUSES
from public_mirror.settings import MirrorSettingsError


def test_start_up_refuses_a_language_lacking_a_site_text_and_names_the_key(public_host):
    public_host.publish()
    with pytest.raises(MirrorSettingsError, match=r"site\.hours\.ja-easy"):
        public_host.app(**{"site.hours": "平日 8時30分〜17時15分",
                           "site.hours.en": "Weekdays 8:30-17:15"})


def test_a_placeholder_name_is_no_translation_of_a_real_one(public_host):
    public_host.publish()
    with pytest.raises(MirrorSettingsError, match=r"site\.municipality_name\.en"):
        public_host.app(**{"site.municipality_name.en": "○○ City"})


@pytest.mark.parametrize("lang, contact, hours", [
    ("ja", "コールセンター", "平日"),
    ("en", "Call Centre", "Weekdays"),
    ("ja-easy", "<ruby>電話<rp>（</rp><rt>でんわ</rt>", "<ruby>月曜日<rp>"),
])
def test_site_texts_are_in_the_pages_language(public_host, lang, contact, hours):
    public_host.publish()
    app = public_host.app(**{
        "site.contact": "コールセンター", "site.contact.en": "Call Centre",
        "site.contact.ja-easy": "{電話|でんわ}", "site.hours": "平日",
        "site.hours.en": "Weekdays", "site.hours.ja-easy": "{月曜日|げつようび}から"})
    page = app.get("/", {"lang": lang})
    assert contact in page.text and hours in page.text
    assert "{" not in page.text.split("<main")[1]


def test_status_wording_and_names_carry_furigana_on_easy_japanese_pages_only(public_host):
    public_host.publish()
    app = public_host.app()
    easy = app.post("/lookup", {"programme": "p2020", "receipt_number": "00000011",
                                "lang": "ja-easy"})
    assert "<ruby>書類<rp>（</rp><rt>しょるい</rt><rp>）</rp></ruby>が たりません" in easy.text


def test_wording_markup_is_escaped_before_furigana(public_host):
    hostile = [{**STATUSES[0], "wording": {"ja-easy": {
        "label": "{<img src=x>|x}", "explanation": "{a|<script>}", "next_step": "x"}}},
        *STATUSES[1:]]
    public_host.publish(statuses=hostile)
    page = public_host.app().post("/lookup", {"programme": "p2020", "receipt_number": "00000001",
                                              "lang": "ja-easy"})
    assert "<img src=x>" not in page.text and "<script>" not in page.text
    assert "<ruby>&lt;img src=x&gt;<rp>" in page.text
