"""What residents see, remembered for the next preview: after each delivered publication
its own frozen rows are kept — exactly what a snapshot made then carried — and the frozen
rows of every other finished publication are gone."""

from datetime import date

import pytest
from sqlalchemy import func, select, update

from intranet.applications.models import Application
from intranet.programmes.models import Programme
from intranet.publications import changes
from intranet.publications.job import publish
from intranet.publications.models import Publication, PublicationRow
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import approved_request, plan
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination


@pytest.fixture
def job(tmp_path):
    """Keys and an outbox: what the publication job needs to deliver somewhere."""
    signing = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    return (signing, generate_lookup_key(tmp_path / "lookup.key")), outbox


def remembered(session_factory):
    """Every frozen row left once nothing is pending: the last delivered publication's."""
    with session_factory() as dbsession:
        kept = set(dbsession.execute(select(PublicationRow.publication_id)).scalars())
        assert kept == {changes.baseline(dbsession).id}
        return {tuple(row) for row in dbsession.execute(select(
            PublicationRow.programme_code, PublicationRow.receipt, PublicationRow.status_code,
            PublicationRow.scheduled_payment_on, PublicationRow.paid_on))}


def live(session_factory):
    """What a snapshot made now would carry for each application still looked up."""
    with session_factory() as dbsession:
        return {tuple(row) for row in dbsession.execute(
            select(Programme.code, Application.receipt_number_normalised,
                   Application.status_code, Application.scheduled_payment_on,
                   Application.paid_on)
            .join(Programme, Programme.id == Application.programme_id)
            .where(Programme.lookup_closed_at.is_(None)))}


def publish_now(session_factory, job):
    keys, outbox = job
    approved_request(session_factory)
    _ids, deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
    assert deliveries and all(d.delivered for d in deliveries)


def test_each_publication_leaves_exactly_what_it_published(session_factory, accounts, job,
                                                           engine):
    first = make_applications(session_factory, make_programme(session_factory), 6)
    closing = make_programme(session_factory, "bukka-2024")
    make_applications(session_factory, closing, 3, start=100)
    publish_now(session_factory, job)
    assert remembered(session_factory) == live(session_factory) and len(live(session_factory)) == 9

    with engine.begin() as connection:
        connection.execute(update(Application).where(Application.id == first[0]).values(
            status_code="payment_scheduled", scheduled_payment_on=date(2020, 7, 10)))
        connection.execute(update(Application).where(Application.id == first[1]).values(
            status_code="reviewing"))
        # A date alone changing (the status stays) is a change too.
        connection.execute(update(Application).where(Application.id == first[2]).values(
            status_code="payment_scheduled", scheduled_payment_on=date(2020, 7, 11)))
    make_applications(session_factory, make_programme(session_factory, "new-2025"), 2, start=200)
    with session_factory() as dbsession:
        before = changes.of_preview(dbsession).totals()
    # Two statuses moved; the third application's status moved and its date was set.
    assert before == {"added": 2, "moved": 3, "removed": 0, "altered": 0}
    publish_now(session_factory, job)
    assert remembered(session_factory) == live(session_factory)

    with engine.begin() as connection:   # the date moves; then the programme closes
        connection.execute(update(Application).where(Application.id == first[2]).values(
            scheduled_payment_on=date(2020, 7, 12)))
        connection.execute(update(Programme).where(Programme.id == closing).values(
            lookup_closed_at=date(2024, 12, 1)))
    with session_factory() as dbsession:
        found = changes.of_preview(dbsession)
    assert found.totals() == {"added": 0, "moved": 0, "removed": 3, "altered": 1}
    [ended] = [p for p in found.programmes if p.ended]
    assert (ended.code, ended.state, dict(ended.removed)) == ("bukka-2024", "lookup_closed",
                                                              {"received": 3})
    publish_now(session_factory, job)
    assert remembered(session_factory) == live(session_factory)
    assert len(live(session_factory)) == 8    # the closed programme's three are gone
    with session_factory() as dbsession:
        assert dbsession.execute(select(func.count()).select_from(Publication)).scalar_one() == 3
