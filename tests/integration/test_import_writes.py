"""What an import writes, row by row, whichever way it writes (PostgreSQL: COPY into a
temporary table and set-based statements; SQLite: plain statements): a changed row
changes only what it states, bumps the version, records a history entry only for a new
status; a blank cell keeps the stored value. On both engines."""

import transaction
from sqlalchemy import select

from intranet.applications.models import Application, StatusChange
from intranet.applications.search_key import search_key
from intranet.db import get_tm_session
from intranet.imports.apply import apply_import
from intranet.programmes.models import Programme
from intranet.statuses.services import load_catalogue
from lab.import_files import PEOPLE, encoded
from tests.conftest import TEST_ACTOR
from tests.factories import make_programme


def run_import(session_factory, programme_id, rows, name):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = dbsession.get(Programme, programme_id)
        plan = apply_import(dbsession, TEST_ACTOR, None, programme, load_catalogue(dbsession),
                            encoded(rows), name)
        return dict(plan.counts)


def stored(session_factory):
    with session_factory() as dbsession:
        applications = {a.receipt_number_normalised: a for a in
                        dbsession.execute(select(Application)).scalars()}
        history = dbsession.execute(select(
            StatusChange.application_id, StatusChange.from_code, StatusChange.to_code,
            StatusChange.reason).order_by(StatusChange.id)).all()
        return applications, history


def test_changed_rows_change_only_what_they_state(session_factory):
    programme_id = make_programme(session_factory)
    assert run_import(session_factory, programme_id, PEOPLE, "first.csv") == \
        {"new": 3, "changed": 0, "unchanged": 0}
    before, history = stored(session_factory)
    assert [(h.from_code, h.to_code) for h in history] == \
        [(None, "received"), (None, "reviewing"), (None, "received")]
    phone = [*PEOPLE[0][:5], "03-1111-2222", *PEOPLE[0][6:]]          # phone only
    status = [*PEOPLE[2][:8], "審査中", *PEOPLE[2][9:]]                  # status only
    blanks = [PEOPLE[1][0], "", "", "", "", "", *PEOPLE[1][6:9], "", "", "", ""]
    assert run_import(session_factory, programme_id, [phone, status, blanks], "second.csv") == \
        {"new": 0, "changed": 2, "unchanged": 1}
    after, history = stored(session_factory)
    first, third, second = after["12345678"], after["12345680"], after["12345679"]
    assert first.phone == "03-1111-2222" and first.version == 2
    assert first.search_key == search_key(first.name, first.kana, "03-1111-2222")
    assert (first.name, first.address, first.status_code) == \
        (before["12345678"].name, before["12345678"].address, "received")
    assert third.status_code == "reviewing" and third.version == 2
    assert third.phone == before["12345680"].phone and third.notes == ""
    # Blank cells keep what is stored: nothing changed, nothing rewritten.
    assert (second.name, second.notes, second.version) == \
        (before["12345679"].name, before["12345679"].notes, 1)
    assert [(h.application_id, h.from_code, h.to_code, h.reason) for h in history[3:]] == \
        [(third.id, "received", "reviewing", "取込: second.csv")]


def test_two_imports_in_one_transaction(session_factory):
    programme_id = make_programme(session_factory)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = dbsession.get(Programme, programme_id)
        catalogue = load_catalogue(dbsession)
        apply_import(dbsession, TEST_ACTOR, None, programme, catalogue, encoded(PEOPLE[:2]), "a.csv")
        apply_import(dbsession, TEST_ACTOR, None, programme, catalogue, encoded(PEOPLE[2:]), "b.csv")
    applications, history = stored(session_factory)
    assert len(applications) == 3 and len(history) == 3
