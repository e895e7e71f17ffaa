"""Saved import layouts: create, pick, edit; a bad one refused plainly on saving."""

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from intranet.imports.models import ImportLayout
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme
from tests.functional.test_imports import confirm

LAYOUT = '{"お客様番号": "受付番号", "結果区分": "状況", "処理状況（旧）": "取り込まない"}'
BANK_FILE = ("お客様番号,結果区分,処理状況（旧）,支払予定日\r\n"
             "00000001,振込予定,支給決定,2020/8/1\r\n").encode("cp932")


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


def save(app, programme, name, mapping, path="/imports/layouts", status=303):
    page = app.get("/imports/layouts")
    return app.post(path, {"csrf_token": csrf_token(page), "programme": str(programme),
                           "name": name, "mapping": mapping}, status=status)


def upload_with(app, programme, layout_id, data, status="*"):
    page = app.get("/imports")
    return app.post("/imports", {"csrf_token": csrf_token(page), "programme": str(programme),
                                 "layout": str(layout_id)},
                    upload_files=[("file", "bank.csv", data)], status=status)


def test_a_saved_layout_is_picked_on_the_import_screen_and_reads_the_file(
        as_role, programme, session_factory, dbsession):
    make_applications(session_factory, programme, 1, status="approved")
    app = as_role("supervisor")     # a file that moves statuses takes the bulk permission
    save(app, programme, "銀行の結果ファイル", LAYOUT)
    layout = dbsession.execute(select(ImportLayout)).scalar_one()
    assert '"結果区分": "状況"' in layout.mapping
    assert "tokubetsu-2020 の給付金: 銀行の結果ファイル" in app.get("/imports").text
    without = upload_with(app, programme, "", BANK_FILE, status=400)
    assert "必須の列がありません: 受付番号" in without.text
    dry = upload_with(app, programme, layout.id, BANK_FILE, status=200)
    assert "<td>結果区分</td><td>状況</td>" in dry.text
    assert "<td>処理状況（旧）</td><td><span class=\"muted\">取り込まない</span></td>" in dry.text
    confirm(app, dry)     # the confirm step carries the layout too
    with session_factory() as s:
        assert s.execute(select(Application.status_code)).scalar_one() == "payment_scheduled"
    assert dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "import_layout.save")).scalar_one()


def test_a_layout_is_edited_in_place(as_role, programme, dbsession):
    app = as_role("staff")
    save(app, programme, "銀行", LAYOUT)
    layout = dbsession.execute(select(ImportLayout)).scalar_one()
    page = app.get(f"/imports/layouts/{layout.id}")
    assert "結果区分" in page.text
    save(app, programme, "銀行（新）", '{"番号": "受付番号", "結果": "状況"}',
         path=f"/imports/layouts/{layout.id}")
    dbsession.expire_all()
    assert (layout.name, '"番号"' in layout.mapping) == ("銀行（新）", True)


@pytest.mark.parametrize(("mapping", "message"), [
    ('{"お客様番号": "口座番号"}', "行き先「口座番号」は取り込める項目ではありません"),
    ('{"お客様番号": "受付番号",', "JSON として読めません"),
    ("", "対応表が空です"),
])
def test_a_bad_layout_is_refused_plainly_and_nothing_saved(as_role, programme, dbsession,
                                                           mapping, message):
    response = save(as_role("staff"), programme, "銀行", mapping, status=400)
    assert message in response.text and "Traceback" not in response.text
    assert dbsession.execute(select(ImportLayout)).first() is None


def test_a_layout_of_another_programme_is_refused(as_role, programme, session_factory):
    other = make_programme(session_factory, code="other-2024")
    app = as_role("staff")
    save(app, other, "銀行", LAYOUT)
    with session_factory() as s:
        layout_id = s.execute(select(ImportLayout.id)).scalar_one()
    response = upload_with(app, programme, layout_id, BANK_FILE, status=400)
    assert "選んだ対応表はこの事業のものではありません" in response.text


def test_staff_cannot_rewrite_a_layout_a_supervisor_saved(as_role, programme, dbsession):
    """The attack: any staff member rewrote the supervisor's bank-file layout in place, so the
    next import under the trusted name read other columns."""
    save(as_role("supervisor"), programme, "銀行の結果ファイル", LAYOUT)
    layout = dbsession.execute(select(ImportLayout)).scalar_one()
    staff = as_role("staff")
    refused = save(staff, programme, "銀行の結果ファイル", '{"別の列": "受付番号", "結果区分": "状況"}',
                   path=f"/imports/layouts/{layout.id}", status=403)
    assert "監督者だけが変更できます" in refused.text
    dbsession.expire_all()
    assert '"お客様番号": "受付番号"' in layout.mapping
    assert dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "import_layout.refused")).scalar_one()
    save(staff, programme, "銀行の結果ファイル（係の版）", LAYOUT)     # a new one of their own
