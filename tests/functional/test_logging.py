"""What the operator reads in the log — a rejected login burst, a refused import, a failed
delivery — and what it never holds: a receipt number, a name or a birth date.

The same events are driven for real (WebTest against the app, the publish job against the
database) with every ``intranet`` and ``transfer`` logger at DEBUG, and every record is
searched for the personal data the requests carried."""

import logging
import re

import pytest
import transaction

from intranet.db import get_tm_session
from intranet.publications import services as publication_services
from intranet.publications.job import publish
from intranet.users.services import find_user
from lab.import_files import HEADER, PEOPLE, csv_text
from tests.conftest import csrf_token, login
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import JOB, keys, plan  # noqa: F401  (fixture)
from transfer.transports import OutboxDestination

# The personal data the tests send; none of it may reach a log record.
PERSONAL = ["1234-5678", "12345678", "１２３４－５６７９", "12345679", "12345680", "0000-0001",
            "00000001", "髙橋", "山﨑", "佐藤", "山田", "タカハシ", "ヤマダ", "昭和55年1月2日",
            "1980-01-02", "1988/12/31", "1988-12-31", "H1.1.8", "1980-01-01", "緑区", "042-000"]


@pytest.fixture
def records(caplog):
    for name in ("intranet", "transfer"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_no_personal_data(caplog):
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        leaked = [value for value in PERSONAL if value in text]
        assert not leaked, f"{record.name}: {text!r} holds {leaked}"


def test_a_rejected_login_burst_is_logged_without_the_password(testapp, records):
    for _ in range(5):
        login(testapp, "staff", "wrong guess 1980-01-01", status=401)
    warnings = [r for r in records.records if r.levelno == logging.WARNING
                and r.name == "intranet.auth.services"]
    assert len(warnings) == 1 and re.search(r"5 failures for user:\d+ from 192\.0\.2\.10; "
                                            r"further attempts from there wait",
                                            warnings[0].getMessage())
    assert "wrong guess" not in records.text
    assert_no_personal_data(records)


def test_a_refused_import_is_logged_without_its_rows(as_role, session_factory, app_settings,
                                                      tmp_path, records):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    programme = make_programme(session_factory)
    app = as_role("staff")

    def upload(data):
        page = app.get("/imports")
        return app.post("/imports", {"csrf_token": csrf_token(page), "programme": str(programme)},
                        upload_files=[("file", "山田太郎の申請.csv", data)], status=400)

    # A My Number column: the whole file refused.
    upload(csv_text(PEOPLE, [*HEADER[:-1], "個人番号"]).encode("utf-8"))
    # Rows with errors: an unknown status and an impossible birth date.
    bad = [row[:] for row in PEOPLE]
    bad[0][8], bad[1][3] = "存在しない状況", "1988/02/30"
    upload(csv_text(bad).encode("utf-8"))
    messages = [r.getMessage() for r in records.records if r.name == "intranet.imports.views"]
    assert any("import refused" in m and "個人番号" in m for m in messages)
    assert any("2 rows refused" in m for m in messages)
    assert "山田太郎の申請" not in records.text
    assert_no_personal_data(records)


def test_a_failed_delivery_is_logged_without_an_entry(session_factory, accounts, keys,  # noqa: F811
                                                      tmp_path, records):
    make_applications(session_factory, make_programme(session_factory), 3)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        staff, supervisor = find_user(dbsession, "staff"), find_user(dbsession, "supervisor")
        publication = publication_services.request_publication(dbsession, JOB, staff, "test",
                                                               True)
        publication_services.decide(dbsession, JOB, supervisor, publication, True, True,
                                    digest=publication.content_digest)
    missing = OutboxDestination(tmp_path / "no-such-dir")
    _ids, deliveries = publish(session_factory, plan(keys, [missing]))
    assert [d.delivered for d in deliveries] == [False]
    errors = [r.getMessage() for r in records.records if r.levelno >= logging.ERROR]
    assert any("NOT delivered to outbox:" in m and "no-such-dir" in m for m in errors)
    assert_no_personal_data(records)
