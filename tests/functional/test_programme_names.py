"""A programme's name per resident language: English, and やさしい日本語 with furigana that the
programme screen checks and previews, carried by the snapshot as typed."""

import pytest
from sqlalchemy import select

from intranet.programmes.models import Programme
from tests.conftest import main_form
from transfer.build import programme_fields

EASY = "{物価|ぶっか}{高騰|こうとう}の {給付金|きゅうふきん}"
EASY_HTML = ("<ruby>物価<rp>（</rp><rt>ぶっか</rt><rp>）</rp></ruby>"
             "<ruby>高騰<rp>（</rp><rt>こうとう</rt><rp>）</rp></ruby>の "
             "<ruby>給付金<rp>（</rp><rt>きゅうふきん</rt><rp>）</rp></ruby>")


def new_programme_form(app):
    form = main_form(app.get("/programmes/new"))
    form["code"] = "bukka-2024"
    form["name"] = "物価高騰対策給付金"
    form["name_en"] = "Price Relief Payment"
    form["name_easy"] = EASY
    return form


def test_the_names_are_previewed_as_residents_read_them_and_nothing_is_saved(as_role, dbsession):
    app = as_role("supervisor")
    preview = new_programme_form(app).submit("preview")
    assert preview.status_int == 200 and "事業名のプレビュー（まだ保存されていません）" in preview.text
    assert EASY_HTML in preview.text and '<dd lang="en">Price Relief Payment</dd>' in preview.text
    assert dbsession.execute(select(Programme)).first() is None
    # The preview keeps what was typed, and saving it from there stores the markup as typed.
    form = main_form(preview)
    assert form["name_easy"].value == EASY
    assert form.submit().status_int == 303
    programme = dbsession.execute(select(Programme)).scalar_one()
    assert programme.name_easy == EASY
    assert programme_fields(programme)["name"] == {
        "ja": "物価高騰対策給付金", "en": "Price Relief Payment", "ja-easy": EASY}


def test_an_existing_programme_gets_its_easy_name_and_the_change_is_audited(as_role, dbsession):
    app = as_role("supervisor")
    form = new_programme_form(app)
    form["name_easy"] = ""
    form.submit()
    programme = dbsession.execute(select(Programme)).scalar_one()
    # Without one the snapshot carries no やさしい日本語 name: the page shows the Japanese one.
    assert "ja-easy" not in programme_fields(programme)["name"]
    form = main_form(app.get(f"/programmes/{programme.id}"))
    form["name_easy"] = EASY
    preview = form.submit("preview")
    assert preview.status_int == 200 and EASY_HTML in preview.text
    assert main_form(preview).submit().status_int == 303
    dbsession.expire_all()
    assert dbsession.get(Programme, programme.id).name_easy == EASY


@pytest.mark.parametrize("typed, says", [
    ("{物価|ぶっか の給付金", "ふりがなの書き方が正しくありません"),
    ("{物価|}の給付金", "「物価」のふりがな（読み）が空です"),
    ("{物価|bukka}の給付金", "「bukka」に、かな以外の文字があります"),
    ("{|ぶっか}の給付金", "ふりがなを付ける文字がありません"),
])
def test_broken_furigana_is_refused_naming_the_field_and_the_place(as_role, dbsession, typed, says):
    form = new_programme_form(as_role("supervisor"))
    form["name_easy"] = typed
    for button in ("preview", None):   # neither previewed nor saved
        response = form.submit(button, expect_errors=True) if button else form.submit(
            expect_errors=True)
        assert response.status_int == 400
        assert 'id="name_easy-error"' in response.text and 'aria-invalid="true"' in response.text
        assert "事業名（やさしい日本語）: " in response.text and says in response.text
        assert main_form(response)["name_easy"].value == typed   # kept as typed
    assert dbsession.execute(select(Programme)).first() is None


def test_names_longer_than_the_page_allows_are_refused_by_name(as_role, dbsession):
    form = new_programme_form(as_role("supervisor"))
    form["name_en"] = "x" * 201
    form["name_easy"] = "あ" * 401
    response = form.submit(expect_errors=True)
    assert response.status_int == 400
    assert "事業名（英語）は200文字以内にしてください。" in response.text
    assert "事業名（やさしい日本語）は400文字以内にしてください。" in response.text
    assert dbsession.execute(select(Programme)).first() is None


def test_markup_typed_into_a_name_never_reaches_the_preview_as_markup(as_role):
    form = new_programme_form(as_role("supervisor"))
    form["name_easy"] = "{<img src=x>|えっくす}<script>alert(1)</script>"
    form["name_en"] = "<script>alert(2)</script>"
    preview = form.submit("preview")
    assert "<script>alert" not in preview.text and "<img src=x>" not in preview.text
    assert "<ruby>&lt;img src=x&gt;<rp>" in preview.text
