"""The frozen content's digest as the builder reproduces it — one read, fast encoding — is
the digest as defined (one canonical-JSON line per frozen row, read through the ORM's
select, SHA-256 over the lot), on both engines and on every shape of content."""

import hashlib
from datetime import date

import transaction
from sqlalchemy import select, update

from intranet.applications.models import Application
from intranet.db import get_tm_session
from intranet.publications import content, services
from intranet.publications.models import Publication, PublicationRow
from intranet.users.services import find_user
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import JOB
from transfer.envelope import canonical_text


def defined_digest(dbsession, publication):
    """The digest as it was written before the fast path: the reference."""
    sha = hashlib.sha256(b"shinsei-publication-content-v1\n")
    sha.update(publication.frozen_header.encode("utf-8") + b"\n")
    rows = dbsession.execute(select(*FROZEN).where(PublicationRow.publication_id == publication.id)
                             .order_by(PublicationRow.programme_code, PublicationRow.receipt))
    for row in rows:
        # A row without action details is its first six values, as rows were before them.
        values = row if any(v is not None for v in row[6:]) else row[:6]
        sha.update(canonical_text([None if v is None else str(v) for v in values])
                   .encode("utf-8") + b"\n")
    return sha.hexdigest()


FROZEN = (PublicationRow.programme_code, PublicationRow.receipt, PublicationRow.birth_date,
          PublicationRow.status_code, PublicationRow.scheduled_payment_on, PublicationRow.paid_on,
          PublicationRow.deficiency_kinds, PublicationRow.documents_sent_on,
          PublicationRow.return_by)


def request(session_factory):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        staff = find_user(dbsession, "staff")
        return services.request_publication(dbsession, JOB, staff, "test", True).id


def check(session_factory, publication_id, rows):
    with session_factory() as dbsession:
        publication = dbsession.get(Publication, publication_id)
        assert publication.content_rows == rows
        expected = defined_digest(dbsession, publication)
        assert publication.content_digest == expected          # as frozen at the request
        assert content.digest(dbsession, publication) == expected
        found, kept = content.read_frozen(dbsession, publication)
        assert found == expected and len(kept) == rows
        assert [tuple(r) for r in kept] == [tuple(r) for r in dbsession.execute(
            select(*FROZEN).where(PublicationRow.publication_id == publication_id)
            .order_by(PublicationRow.programme_code, PublicationRow.receipt))]


def test_no_application_at_all(session_factory, accounts):
    make_programme(session_factory)
    check(session_factory, request(session_factory), 0)


def test_one_application(session_factory, accounts):
    make_applications(session_factory, make_programme(session_factory), 1)
    check(session_factory, request(session_factory), 1)


def test_many_programmes_dates_and_unusual_receipt_numbers(session_factory, accounts, engine,
                                                           monkeypatch):
    ids = []
    for number, code in enumerate(["tokubetsu-2020", "bukka-2024", "a_3", "Z-4", "x"]):
        programme = make_programme(session_factory, code, needs_birth_date=number % 2 == 1)
        ids += make_applications(session_factory, programme, 60, start=1 + number * 100)
    statuses = ["received", "payment_scheduled", "paid", "reviewing", "deficient"]
    with engine.begin() as connection:
        for n, application_id in enumerate(ids):
            values = {"status_code": statuses[n % 5],
                      "birth_date": None if n % 9 == 0 else date(1930 + n % 90, 1 + n % 12, 28),
                      "scheduled_payment_on": date(2020, 7, 1 + n % 30) if n % 5 else None,
                      "paid_on": date(2020, 8, 1 + n % 31) if n % 5 == 2 else None,
                      # Action details on some: frozen only where the status needs action.
                      "deficiency_kinds": n % 4, "documents_sent_on": date(2020, 6, 1 + n % 30)
                      if n % 3 else None, "return_by": date(2020, 7, 1) if n % 7 else None}
            # Receipt numbers as no importer would store them, to reach every writing path.
            if n % 50 == 7:
                values["receipt_number_normalised"] = ['AB"1', "AB\\2", "ＡＢ３", "申請４",
                                                       "AB\t5", "🎌6"][n // 50 % 6]
            connection.execute(update(Application).where(Application.id == application_id)
                               .values(**values))
    # Several chunks, so a chunk's fast and defining paths meet in one digest.
    monkeypatch.setattr(content, "CHUNK", 37)
    check(session_factory, request(session_factory), len(ids))


def test_action_details_are_frozen_only_where_the_status_needs_action(session_factory, accounts,
                                                                      engine):
    programme = make_programme(session_factory, kinds=True)
    ids = make_applications(session_factory, programme, 3, status="deficient")
    with engine.begin() as connection:
        for n, application_id in enumerate(ids):
            connection.execute(update(Application).where(Application.id == application_id).values(
                status_code=("deficient", "reviewing", "deficient")[n],
                deficiency_kinds=(5, 5, 0)[n], documents_sent_on=date(2026, 5, 20),
                return_by=(date(2026, 6, 10), date(2026, 6, 10), None)[n],
                deficiency_reason="本人に電話済み"))
    publication_id = request(session_factory)
    check(session_factory, publication_id, 3)
    with session_factory() as dbsession:
        frozen = dbsession.execute(select(*FROZEN[3:])).all()
        publication = dbsession.get(Publication, publication_id)
    assert sorted(frozen, key=str) == sorted([
        ("deficient", None, None, 5, date(2026, 5, 20), date(2026, 6, 10)),
        ("reviewing", None, None, None, None, None),             # kept, not published
        ("deficient", None, None, None, date(2026, 5, 20), None)], key=str)
    assert "本人に電話済み" not in publication.frozen_header
    assert '"deficiency_kinds":[{"bit":0,"code":"id_copy"' in publication.frozen_header
