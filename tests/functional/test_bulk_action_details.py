"""Bulk change with action details: the same kinds, sent date and deadline for a batch,
kept or started afresh as each application's status says, refused naming the problem."""

from datetime import date

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from tests.factories import make_applications, make_programme
from tests.functional.test_bulk import confirm, preview


@pytest.fixture
def batch(session_factory):
    programme = make_programme(session_factory, kinds=True)
    make_applications(session_factory, programme, 3, status="reviewing")
    make_applications(session_factory, programme, 2, status="deficient", start=4)
    return programme


def details(dbsession):
    dbsession.expire_all()
    return {a.receipt_number_normalised: (a.status_code, a.deficiency_kinds, a.documents_sent_on,
                                          a.return_by)
            for a in dbsession.execute(select(Application)).scalars()}


def test_a_batch_is_marked_deficient_with_kinds_by_name_and_code(as_role, batch, dbsession):
    app = as_role("supervisor")
    shown = preview(app, batch, "00000001\n00000002", status="deficient",
                    deficiency_reason="一斉確認", deficiency_kinds="本人確認書類の写しがない、signature",
                    documents_sent_on="2026-05-20", return_by="2026-06-10")
    assert shown.status_int == 200
    assert "本人確認書類の写しがない、署名がない" in shown.text   # as residents' kinds, checked
    assert confirm(app, shown).status_int == 303
    after = details(dbsession)
    assert after["00000001"] == ("deficient", 0b101, date(2026, 5, 20), date(2026, 6, 10))
    assert after["00000003"] == ("reviewing", 0, None, None)
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.bulk_status")).scalar_one()
    assert '"deficiency_kinds":5' in record.details and '"return_by":"2026-06-10"' in record.details


def test_a_deadline_given_alone_keeps_the_kinds_of_those_already_deficient(
        as_role, batch, dbsession):
    app = as_role("supervisor")
    confirm(app, preview(app, batch, "00000004\n00000005", status="awaiting_resubmission",
                         deficiency_kinds="id_copy", documents_sent_on="2026-05-20"))
    shown = preview(app, batch, "00000004\n00000005", status="deficient", deficiency_reason="再送",
                    return_by="2026-07-31")
    assert confirm(app, shown).status_int == 303
    assert details(dbsession)["00000004"] == ("deficient", 0b1, date(2026, 5, 20),
                                              date(2026, 7, 31))


def test_entering_a_status_that_needs_action_starts_blank(as_role, batch, dbsession):
    """An earlier round's kinds, kept unpublished while under review, are not carried over."""
    app = as_role("supervisor")
    confirm(app, preview(app, batch, "00000004", status="reviewing"))
    assert details(dbsession)["00000004"][1] == 0      # never had any: nothing kept
    confirm(app, preview(app, batch, "00000005", status="awaiting_resubmission",
                         deficiency_kinds="署名がない", return_by="2026-06-10"))
    confirm(app, preview(app, batch, "00000005", status="reviewing"))
    assert details(dbsession)["00000005"][1:] == (0b100, None, date(2026, 6, 10))
    confirm(app, preview(app, batch, "00000005", status="deficient", deficiency_reason="再",
                         deficiency_kinds="記入漏れ"))
    assert details(dbsession)["00000005"] == ("deficient", 0b1000, None, None)


@pytest.mark.parametrize(("extra", "words"), [
    ({"deficiency_kinds": "押印がない"}, "不備の種類「押印がない」はこの事業にありません"),
    ({"deficiency_kinds": "、".join(f"種類{n}" for n in range(200))}, "不備の種類「種類0」"),
    ({"deficiency_kinds": "x" * 3000}, "長すぎます"),
    ({"return_by": "2026-05-01", "documents_sent_on": "2026-05-20"}, "より前です"),
])
def test_bad_action_details_refuse_the_whole_batch(as_role, batch, dbsession, extra, words):
    before = details(dbsession)
    response = preview(as_role("supervisor"), batch, "00000001", status="deficient",
                       deficiency_reason="x", **extra)
    assert response.status_int == 400 and words in response.text
    assert details(dbsession) == before


def test_a_deadline_before_an_applications_sent_date_names_the_receipt(as_role, batch, dbsession):
    app = as_role("supervisor")
    confirm(app, preview(app, batch, "00000004", status="awaiting_resubmission",
                         documents_sent_on="2026-05-20"))
    response = preview(app, batch, "00000004\n00000005", status="deficient",
                       deficiency_reason="x", return_by="2026-05-01")
    assert response.status_int == 400
    assert ("受付番号 00000004: 返送期限（2026-05-01）が書類送付日（2026-05-20）より前になります"
            in response.text)


def test_kinds_with_a_status_that_needs_no_action_are_refused(as_role, batch, dbsession):
    response = preview(as_role("supervisor"), batch, "00000001", status="approved",
                       deficiency_kinds="署名がない")
    assert response.status_int == 400 and "住民の手続きが必要な状況ではない" in response.text
