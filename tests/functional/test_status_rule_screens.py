"""The 不備あり rule on the two screens that change a status from outside the list: the
status-only import refuses 不備あり without 不備内容 with the very sentence the single-change
screen shows, and changes nothing."""

from sqlalchemy import select

from intranet.applications.models import Application
from lab.import_files import csv_text
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme

SENTENCE = "「不備あり（書類返送）」にするには不備の内容が必要です。"


def test_import_and_single_change_refuse_with_one_sentence(as_role, session_factory,
                                                          app_settings, tmp_path, dbsession):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    programme = make_programme(session_factory)
    first, second = make_applications(session_factory, programme, 2)
    app = as_role("staff")

    detail = app.get(f"/applications/{first}")
    single = app.post(f"/applications/{first}/status",
                      {"csrf_token": csrf_token(detail), "status": "deficient", "version": "1"},
                      status=409)
    assert SENTENCE in single.text

    page = app.get("/imports")
    data = csv_text([["0000-0002", "不備あり（書類返送）"]], ["受付番号", "状況"]).encode("utf-8")
    imported = app.post("/imports", {"csrf_token": csrf_token(page), "programme": str(programme)},
                        upload_files=[("file", "result.csv", data)], status=400)
    assert SENTENCE in imported.text
    statuses = dbsession.execute(select(Application.status_code).where(
        Application.id.in_([first, second]))).scalars().all()
    assert statuses == ["received", "received"]
