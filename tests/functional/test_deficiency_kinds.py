"""不備の種類 and 返送先 per programme: the shipped set, the supervisor's editor with its
preview and markup checks, and what it refuses."""

import re

import pytest
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.deficiencies import catalogue
from intranet.deficiencies.defaults import DEFAULT_KINDS
from intranet.deficiencies.models import MAX_DEFICIENCY_KINDS, DeficiencyKind
from intranet.programmes.models import Programme
from tests.conftest import csrf_token, main_form
from tests.factories import make_programme
from transfer import ruby


@pytest.fixture
def programme(session_factory):
    return make_programme(session_factory, kinds=True)


def test_a_programme_made_on_its_screen_starts_with_the_shipped_kinds(as_role, dbsession):
    app = as_role("supervisor")
    form = main_form(app.get("/programmes/new"))
    form["code"], form["name"] = "bukka-2024", "物価高騰対策給付金"
    assert form.submit().status_int == 303
    programme = dbsession.execute(select(Programme).where(Programme.code == "bukka-2024")).scalar_one()
    kinds = catalogue.load(dbsession, programme.id)
    assert [k.code for k in kinds.kinds] == [code for code, _, _ in DEFAULT_KINDS]
    assert [k.bit for k in kinds.kinds] == list(range(len(DEFAULT_KINDS)))


def test_the_shipped_easy_wording_has_furigana_over_every_kanji():
    kanji = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf々]")
    for code, _, wording in DEFAULT_KINDS:
        assert set(wording) == {"ja", "en", "ja-easy"}, code
        assert ruby.problems(wording["ja-easy"]) == [], code
        outside = kanji.findall(re.sub(r"\{[^{}|]+\|[^{}|]+\}", "", wording["ja-easy"]))
        assert outside == [], (code, outside)


def test_everyone_who_handles_applications_reads_the_kinds_only_supervisors_edit(
        as_role, programme):
    app = as_role("staff")
    page = app.get(f"/programmes/{programme}/deficiencies")
    assert "本人確認書類の写しがない" in page.text and "不備の種類を追加" not in page.text
    assert app.get(f"/programmes/{programme}/deficiencies/new", expect_errors=True).status_int == 403


def test_a_supervisor_adds_a_kind_previewing_it_in_three_languages(as_role, programme, dbsession):
    app = as_role("supervisor")
    form = main_form(app.get(f"/programmes/{programme}/deficiencies/new"))
    form["code"], form["name"] = "seal", "印鑑の押し忘れ"
    form["wording.ja"] = "申請書への押印"
    form["wording.en"] = "Your seal on the application form"
    form["wording.ja-easy"] = "{申請書|しんせいしょ}の はんこ"
    preview = form.submit("preview")
    assert "<ruby>申請書<rp>（</rp><rt>しんせいしょ</rt><rp>）</rp></ruby>の はんこ" in preview.text
    assert "Your seal on the application form" in preview.text
    assert catalogue.load(dbsession, programme).names(1 << 5) == []   # nothing saved yet
    assert main_form(preview).submit().status_int == 303
    dbsession.expire_all()
    added = catalogue.load(dbsession, programme).kinds[-1]
    # The first bit no kind has taken; wording saved as typed, furigana markup included.
    assert (added.code, added.bit, added.resident_text("ja-easy")) == (
        "seal", len(DEFAULT_KINDS), "{申請書|しんせいしょ}の はんこ")
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "deficiency_kind.create")).scalar_one()
    assert record.target == f"deficiency_kind:{added.id}"


@pytest.mark.parametrize(("field", "value", "words"), [
    ("wording.ja-easy", "{申請書|しんせいしょ の はんこ", "ふりがなの書き方が正しくありません"),
    ("wording.ja-easy", "{申請書|shinseisho}", "かな以外の文字があります"),
    ("wording.en", "", "住民向けの文言を入力してください"),
    ("wording.ja", "x" * 401, "400文字以内"),
    ("name", "署名がない", "不備の種類「署名がない」の名前と同じです"),
    ("code", "ＳＩＧＮＡＴＵＲＥ", "英小文字"),
    ("code", "signature", "「signature」は不備の種類"),
    ("wording.ja", "申請書への署名（ご本人が自筆でお書きください）", "取込で区別できない"),
    ("sort_order", "十", "表示順は数字"),
])
def test_a_kind_that_could_not_be_read_is_refused_naming_the_field(
        as_role, programme, dbsession, field, value, words):
    app = as_role("supervisor")
    form = main_form(app.get(f"/programmes/{programme}/deficiencies/new"))
    values = {"code": "seal", "name": "押印がない", "wording.ja": "押印", "wording.en": "Seal",
              "wording.ja-easy": "はんこ", field: value}
    for name, text in values.items():
        form[name] = text
    response = form.submit(expect_errors=True)
    assert response.status_int == 400, response.text
    assert f'id="{field}-error"' in response.text and words in response.text
    assert len(catalogue.load(dbsession, programme).kinds) == len(DEFAULT_KINDS)


def test_the_thirty_third_kind_is_refused(as_role, session_factory, dbsession):
    programme = make_programme(session_factory, code="many")
    app = as_role("supervisor")
    for n in range(MAX_DEFICIENCY_KINDS + 1):
        form = main_form(app.get(f"/programmes/{programme}/deficiencies/new"))
        for name, text in {"code": f"k{n:02d}", "name": f"不備{n}", "wording.ja": f"書類{n}",
                           "wording.en": f"Paper {n}", "wording.ja-easy": f"しょるい{n}"}.items():
            form[name] = text
        response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "32までです" in response.text
    bits = dbsession.execute(select(DeficiencyKind.bit).where(
        DeficiencyKind.programme_id == programme)).scalars().all()
    assert sorted(bits) == list(range(MAX_DEFICIENCY_KINDS))


def test_a_retired_kind_keeps_its_bit_and_cannot_be_chosen(as_role, programme, dbsession):
    app = as_role("supervisor")
    signature = catalogue.load(dbsession, programme).kinds[2]
    form = main_form(app.get(f"/programmes/{programme}/deficiencies/{signature.id}"))
    form["retired"] = True
    assert form.submit().status_int == 303
    dbsession.expire_all()
    kinds = catalogue.load(dbsession, programme)
    assert kinds.of(1 << 2)[0].retired and kinds.names(1 << 2) == ["署名がない"]
    with pytest.raises(catalogue.KindRefused, match="使わなくなった"):
        kinds.read("署名がない")


def test_another_programmes_kind_is_not_found_here(as_role, programme, session_factory):
    other = make_programme(session_factory, code="other", kinds=True)
    app = as_role("supervisor")
    with_other = app.get(f"/programmes/{other}/deficiencies")
    kind_id = re.search(r"/deficiencies/(\d+)\"", with_other.text).group(1)
    assert app.get(f"/programmes/{programme}/deficiencies/{kind_id}",
                   expect_errors=True).status_int == 404


def test_return_details_are_previewed_and_saved_in_three_languages(as_role, programme, dbsession):
    app = as_role("supervisor")
    page = app.get(f"/programmes/{programme}/deficiencies")
    form = main_form(page)
    form["return_to"] = "〒252-5277 中央区中央2-11-15 給付金担当"
    form["return_to_en"] = "Benefit Office, 2-11-15 Chuo, Chuo-ku 252-5277"
    form["return_to_easy"] = "〒252-5277 {中央区|ちゅうおうく} {給付金|きゅうふきん}の {係|かかり}"
    form["enclose"] = "お送りした返信用封筒に入れてください。"
    form["enclose_en"] = "Please use the return envelope we sent."
    form["enclose_easy"] = "{送|おく}った {封筒|ふうとう}に いれて ください。"
    preview = form.submit("preview")
    assert "<ruby>給付金<rp>（</rp><rt>きゅうふきん</rt>" in preview.text
    assert dbsession.get(Programme, programme).return_to == ""
    assert main_form(preview).submit().status_int == 303
    dbsession.expire_all()
    return_to, enclose = dbsession.get(Programme, programme).return_details()
    assert return_to["ja-easy"].startswith("〒252-5277 {中央区|ちゅうおうく}")
    assert enclose["en"] == "Please use the return envelope we sent."


def test_return_details_in_one_language_only_are_refused(as_role, programme, dbsession):
    app = as_role("supervisor")
    page = app.get(f"/programmes/{programme}/deficiencies")
    response = app.post(f"/programmes/{programme}/deficiencies", {
        "csrf_token": csrf_token(page), "return_to": "中央区役所"}, expect_errors=True)
    assert response.status_int == 400
    assert 'id="return_to_en-error"' in response.text and "すべてを入力" in response.text
    assert dbsession.get(Programme, programme).return_to == ""
