"""The catalogue's resident-facing parts: statuses that need the resident to act."""

from intranet.statuses.models import Status
from tests.conftest import main_form
from transfer.build import status_fields as snapshot_status


def test_the_default_catalogue_marks_the_statuses_residents_must_act_on(dbsession):
    marked = {s.code for s in dbsession.query(Status) if s.needs_resident_action}
    assert marked == {"deficient", "awaiting_resubmission", "payment_failed"}


def test_a_supervisor_marks_a_status_as_needing_action_and_the_snapshot_carries_it(
        as_role, dbsession):
    app = as_role("supervisor")
    page = app.get("/catalogue/inquiring")
    assert "住民の手続きが必要" in page.text
    form = main_form(page)
    form["needs_resident_action"] = True
    assert form.submit().status_int == 303
    dbsession.expire_all()
    status = dbsession.get(Status, "inquiring")
    assert status.needs_resident_action is True
    assert snapshot_status(status)["action_needed"] is True
    assert snapshot_status(dbsession.get(Status, "received"))["action_needed"] is False


def test_the_wording_editor_previews_furigana_and_saves_it_as_typed(as_role, dbsession):
    app = as_role("supervisor")
    form = main_form(app.get("/catalogue/received"))
    form["resident_label.ja-easy"] = "{申請|しんせい}を うけつけました"
    preview = form.submit("preview")
    assert preview.status_int == 200
    assert "<ruby>申請<rp>（</rp><rt>しんせい</rt><rp>）</rp></ruby>を うけつけました" in preview.text
    assert dbsession.get(Status, "received").wording("ja-easy").resident_label != \
        "{申請|しんせい}を うけつけました"
    assert main_form(preview).submit().status_int == 303
    dbsession.expire_all()
    saved = dbsession.get(Status, "received")
    assert saved.wording("ja-easy").resident_label == "{申請|しんせい}を うけつけました"
    assert snapshot_status(saved)["wording"]["ja-easy"]["label"] == "{申請|しんせい}を うけつけました"


def test_broken_furigana_is_refused_naming_the_field(as_role, dbsession):
    app = as_role("supervisor")
    form = main_form(app.get("/catalogue/received"))
    form["explanation.ja-easy"] = "{申請|しんせい を うけつけました"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and 'id="explanation.ja-easy-error"' in response.text
    assert "ふりがなの書き方が正しくありません" in response.text


def test_wording_cannot_bring_its_own_markup_into_the_preview(as_role):
    app = as_role("supervisor")
    form = main_form(app.get("/catalogue/received"))
    form["explanation.ja-easy"] = "{<img src=x>|えっくす}<script>alert(1)</script>"
    preview = form.submit("preview")
    assert "<script>alert(1)" not in preview.text and "<img src=x>" not in preview.text
