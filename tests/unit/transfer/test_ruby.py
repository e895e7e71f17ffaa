"""Furigana markup: {漢字|かんじ} → <ruby>, escaped first; the editor's check names the place."""

from transfer import ruby


def test_marks_become_ruby_and_the_rest_stays_text():
    assert ruby.to_html("{給付金|きゅうふきん}を しらべる") == (
        "<ruby>給付金<rp>（</rp><rt>きゅうふきん</rt><rp>）</rp></ruby>を しらべる")
    assert ruby.plain("{給付金|きゅうふきん}を しらべる") == "給付金を しらべる"


def test_markup_in_wording_is_escaped_before_ruby_is_added():
    html = ruby.to_html('{<script>|"x"}<img src=x>')
    assert "<script>" not in html and "<img" not in html
    assert html.startswith("<ruby>&lt;script&gt;<rp>") and "&quot;x&quot;" in html


def test_broken_marks_are_named_for_the_editor():
    assert ruby.problems("{給付金|きゅうふきん}と{申請|しんせい}") == []
    assert ruby.problems("ふつうの 文") == []
    for broken in ("{給付金|きゅうふきん", "{給付金}", "給付金|きゅうふきん}", "{|よみ}"):
        (problem,) = ruby.problems(broken)
        assert "ふりがな" in problem and "{漢字|かんじ}" in problem


def test_each_kind_of_mistake_gets_its_own_message_quoting_the_place():
    (empty,) = ruby.problems("{給付金|}を しらべる")
    assert "「給付金」のふりがな（読み）が空です" in empty and "{給付金|}" in empty
    (blank,) = ruby.problems("{給付金| }")
    assert "読み）が空です" in blank
    (no_base,) = ruby.problems("{|きゅうふきん}")
    assert "ふりがなを付ける文字がありません" in no_base
    (latin,) = ruby.problems("{給付金|kyufukin}")
    assert "「kyufukin」に、かな以外の文字があります" in latin and "ひらがなかカタカナ" in latin
    (kanji,) = ruby.problems("{給付金|給付}")
    assert "かな以外" in kanji


def test_katakana_and_the_long_vowel_mark_are_readings():
    assert ruby.problems("{番号|ナンバー}と{窓口|まどぐち}と{ｶﾅ|ｶﾅ}") == []


def test_several_mistakes_are_all_reported():
    assert len(ruby.problems("{一|}{二|two}{三|さん")) == 3
