"""The publications screen's preview compares only the applications written since the
delivered publication was frozen (intranet.publications.since), and shows exactly what
comparing every row shows — after status changes, new applications, action details, a
bulk change, a transaction that commits after the freeze it began before, a deletion made
by hand, a programme closed, a status's flags changed, and a database restored into
another cluster. Whenever the proof does not hold, the whole comparison runs."""

import json
from datetime import date, datetime

import pytest
import transaction
from sqlalchemy import text, update

from intranet.applications.models import Application
from intranet.db import get_tm_session
from intranet.publications import changes, since
from intranet.publications.models import PUBLISHED, Publication
from tests.factories import make_applications, make_programme
from tests.integration.test_incremental_build import approved

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def delivered(session_factory) -> int:
    """A publication requested, approved and recorded as delivered: the new baseline."""
    publication_id = approved(session_factory)
    with transaction.manager:
        publication = get_tm_session(session_factory, transaction.manager).get(
            Publication, publication_id)
        publication.state, publication.finished_at = PUBLISHED, datetime.now()
    return publication_id


def shown(found):
    return [(p.code, p.rows()) for p in found.programmes], found.totals()


def preview(session_factory, fast_expected=True):
    """The preview, checked against the whole comparison; whether the fast way was taken."""
    with session_factory() as dbsession:
        last = changes.baseline(dbsession)
        snapshot = since.usable_snapshot(dbsession, last.frozen_mark, since.now(dbsession))
        assert (snapshot is not None) == fast_expected, last.frozen_mark
        fast = shown(changes.of_preview(dbsession))
        assert fast == shown(changes.summarise(dbsession, changes.live_rows(), last))
        dbsession.commit()            # as the page's transaction does: the entries are kept
        return fast[1]


def set_(engine, ids, **values):
    with engine.begin() as connection:
        connection.execute(update(Application).where(Application.id.in_(ids)).values(**values))


@pytest.fixture
def city(session_factory, accounts, engine):
    plain = make_programme(session_factory)
    birth = make_programme(session_factory, "bukka-2024", needs_birth_date=True)
    ids = make_applications(session_factory, plain, 60)
    others = make_applications(session_factory, birth, 40, start=5_000)
    delivered(session_factory)
    return plain, birth, ids, others


def test_each_kind_of_change_is_shown_as_the_whole_comparison_shows_it(
        session_factory, engine, city):
    plain, _birth, ids, others = city
    assert preview(session_factory) == {"added": 0, "removed": 0, "moved": 0, "altered": 0}
    set_(engine, ids[:3], status_code="paid", paid_on=date(2020, 8, 3))
    set_(engine, ids[3:4], status_code="payment_scheduled", scheduled_payment_on=date(2020, 8, 9))
    make_applications(session_factory, plain, 2, start=900)
    set_(engine, others[:2], birth_date=date(1990, 2, 3))            # another lookup key
    set_(engine, ids[5:7], name="書き換えた氏名")                    # not published: no change
    assert preview(session_factory) == {"added": 2, "removed": 0, "moved": 4, "altered": 2}

    delivered(session_factory)
    assert preview(session_factory) == {"added": 0, "removed": 0, "moved": 0, "altered": 0}
    set_(engine, ids[:1], paid_on=date(2020, 8, 4))                 # a date residents read
    set_(engine, others[2:3], birth_date=None)                       # the lookup key changes
    assert preview(session_factory) == {"added": 0, "removed": 0, "moved": 0, "altered": 2}


def test_a_write_that_commits_after_the_freeze_it_began_before_is_shown(
        session_factory, engine, city):
    """The trap a counter or a clock falls into: the staff's change takes its place before
    the request is frozen and commits after; the frozen rows lack it, so the next preview
    must show it although its transaction is older than ones the freeze saw."""
    _plain, _birth, ids, _others = city
    late = engine.connect()
    pending = late.begin()
    late.execute(update(Application).where(Application.id == ids[10])
                 .values(status_code="paid", paid_on=date(2020, 8, 3)))
    # Another clerk's change, begun after it, commits first: the late one is then older
    # than the newest the freeze sees (a "changed after the newest seen" rule misses it).
    set_(engine, ids[20:21], name="別の職員の変更")
    publication = delivered(session_factory)          # frozen while that change is pending
    pending.commit()
    late.close()
    with session_factory() as dbsession:
        frozen = dbsession.execute(text(
            "SELECT status_code FROM publication_rows WHERE publication_id = :p "
            "AND receipt = :r"), {"p": publication, "r": f"{11:08d}"}).scalar_one()
    assert frozen == "received"                        # the freeze did not see it
    assert preview(session_factory)["moved"] == 1


def test_a_receipt_number_changed_by_hand_makes_the_preview_compare_every_row(
        session_factory, engine, city):
    """The frozen row of the old number has no live row to answer it: removed, and the new
    number added — only the whole comparison finds the first."""
    _plain, _birth, ids, _others = city
    set_(engine, ids[:1], receipt_number_normalised="99990001")
    assert preview(session_factory, fast_expected=False) == {
        "added": 1, "removed": 1, "moved": 0, "altered": 0}
    set_(engine, ids[1:2], name="番号は変えない")            # a later write keys nothing
    delivered(session_factory)
    assert preview(session_factory)["removed"] == 0


def test_a_deletion_by_hand_makes_the_preview_compare_every_row(session_factory, engine, city):
    _plain, _birth, ids, _others = city
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM status_changes WHERE application_id = :i"),
                           {"i": ids[0]})
        connection.execute(text("DELETE FROM applications WHERE id = :i"), {"i": ids[0]})
    assert preview(session_factory, fast_expected=False)["removed"] == 1
    delivered(session_factory)                         # the deletion is behind the new freeze
    assert preview(session_factory)["removed"] == 0


@pytest.mark.parametrize("change", [
    "UPDATE programmes SET lookup_closed_at = now() WHERE code = 'bukka-2024'",
    "UPDATE programmes SET needs_birth_date = false WHERE code = 'bukka-2024'",
    "UPDATE statuses SET needs_paid_date = NOT needs_paid_date WHERE code = 'paid'",
], ids=["lookup-closed", "birth-date-rule", "status-flag"])
def test_a_programme_or_status_changed_makes_the_preview_compare_every_row(
        session_factory, engine, city, change):
    _plain, _birth, ids, _others = city
    set_(engine, ids[:2], status_code="paid", paid_on=date(2020, 8, 3))
    with engine.begin() as connection:
        connection.execute(text(change))
    preview(session_factory, fast_expected=False)


def test_a_mark_from_another_cluster_or_none_makes_the_preview_compare_every_row(
        session_factory, engine, city):
    """A dump restored into another cluster: its transaction numbers start again, so a mark
    taken before cannot tell what was written since. A publication frozen before the mark
    existed has none."""
    _plain, _birth, ids, _others = city
    set_(engine, ids[:2], status_code="paid", paid_on=date(2020, 8, 3))
    with session_factory() as dbsession:
        last = changes.baseline(dbsession)
        mark = json.loads(last.frozen_mark)
        last.frozen_mark = json.dumps({**mark, "cluster": "6000000000000000001"})
        dbsession.commit()
    assert preview(session_factory, fast_expected=False)["moved"] == 2
    with session_factory() as dbsession:
        changes.baseline(dbsession).frozen_mark = ""
        dbsession.commit()
    assert preview(session_factory, fast_expected=False)["moved"] == 2


def test_every_write_path_marks_the_application(session_factory, engine, city):
    """The mark is the database's, not the code's: an insert takes it by default and any
    update by the trigger, whatever wrote it (here plain SQL, not the application's code)."""
    _plain, _birth, ids, _others = city
    with engine.begin() as connection:
        before = connection.execute(text("SELECT changed_xact::text FROM applications "
                                         "WHERE id = :i"), {"i": ids[0]}).scalar_one()
        connection.execute(text("UPDATE applications SET return_by = '2020-09-01' "
                                "WHERE id = :i"), {"i": ids[0]})
        now, written = connection.execute(text(
            "SELECT pg_current_xact_id()::text, changed_xact::text FROM applications "
            "WHERE id = :i"), {"i": ids[0]}).one()
    assert before is not None and written == now != before


def test_the_kept_preview_follows_changes_between_views(session_factory, engine, city):
    """Viewed after each change, the kept entries are compared again only for what was
    written since the last view: a change made and undone leaves no entry, a write pending
    during a view and committed after it is shown by the next, and a programme closed and
    opened again (the whole comparison meanwhile) leaves the kept entries right."""
    _plain, _birth, ids, _others = city
    set_(engine, ids[:2], status_code="paid", paid_on=date(2020, 8, 3))
    assert preview(session_factory)["moved"] == 2
    set_(engine, ids[:1], status_code="received", paid_on=None)          # undone
    assert preview(session_factory)["moved"] == 1

    late = engine.connect()
    pending = late.begin()
    late.execute(update(Application).where(Application.id == ids[30])
                 .values(status_code="paid", paid_on=date(2020, 8, 3)))
    # Another clerk's write commits first (not a status: the pending one holds its tally).
    set_(engine, ids[31:32], name="別の職員の変更")
    assert preview(session_factory)["moved"] == 1            # the pending one not yet
    pending.commit()
    late.close()
    assert preview(session_factory)["moved"] == 2

    with engine.begin() as connection:
        connection.execute(text("UPDATE programmes SET lookup_closed_at = now() "
                                "WHERE code = 'tokubetsu-2020'"))
    set_(engine, ids[40:41], status_code="paid", paid_on=date(2020, 8, 3))
    preview(session_factory, fast_expected=False)
    with engine.begin() as connection:
        connection.execute(text("UPDATE programmes SET lookup_closed_at = NULL "
                                "WHERE code = 'tokubetsu-2020'"))
    assert preview(session_factory)["moved"] == 3


def test_two_views_at_once_bring_the_kept_preview_up_to_date_one_after_the_other(
        session_factory, engine, city):
    """The second view waits for the first's lock on the mark, then takes up from its mark:
    no error, no entry lost or doubled."""
    import threading

    _plain, _birth, ids, _others = city
    set_(engine, ids[:3], status_code="paid", paid_on=date(2020, 8, 3))
    first = session_factory()
    changes.of_preview(first)                                # holds the lock, not committed
    seen = {}
    second = threading.Thread(target=lambda: seen.update(totals=preview(session_factory)))
    second.start()
    second.join(1.0)
    assert second.is_alive()                                 # waiting for the first
    set_(engine, ids[3:4], status_code="paid", paid_on=date(2020, 8, 3))
    first.commit()
    first.close()
    second.join(30)
    assert seen["totals"]["moved"] == 4
