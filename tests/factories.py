"""Rows for tests, committed through the same models the app uses."""

from datetime import date

import transaction

from intranet.applications.models import Application, StatusChange
from intranet.audit.writer import utcnow
from intranet.db import get_tm_session
from intranet.deficiencies.catalogue import add_defaults
from intranet.programmes.models import Programme


def make_programme(session_factory, code="tokubetsu-2020", needs_birth_date=False,
                   kinds=False, **fields):
    """``kinds``: with the shipped 不備の種類, as a programme made on its screen has them."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = Programme(code=code, name=f"{code} の給付金", name_en=code,
                              needs_birth_date=needs_birth_date, **fields)
        dbsession.add(programme)
        dbsession.flush()
        if kinds:
            add_defaults(dbsession, programme.id)
        return programme.id


def make_applications(session_factory, programme_id, count, status="received", start=1,
                      received_on=date(2020, 6, 1)):
    """``count`` applications numbered 8-digit from ``start``; returns their ids."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        applications = []
        for n in range(start, start + count):
            number = f"{n:08d}"
            application = Application(
                programme_id=programme_id, receipt_number=f"{number[:4]}-{number[4:]}",
                receipt_number_normalised=number, name=f"山田　太郎{n}", kana=f"ヤマダ　タロウ{n}",
                birth_date=date(1980, 1, 1), address="中央1丁目1番1号", phone="042-000-0000",
                route="postal", received_on=received_on, status_code=status,
                updated_at=utcnow(),
            )
            dbsession.add(application)
            applications.append(application)
        dbsession.flush()
        dbsession.add_all(StatusChange(application_id=a.id, to_code=status, changed_at=utcnow(),
                                       source="create") for a in applications)
        return [a.id for a in applications]
