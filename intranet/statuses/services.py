"""Reading and changing the status catalogue."""

from sqlalchemy import select

from intranet.statuses.models import Status


def load_catalogue(dbsession) -> dict[str, Status]:
    """Every status by code, in display order."""
    statuses = dbsession.execute(select(Status).order_by(Status.sort_order)).scalars()
    return {status.code: status for status in statuses}


def staff_labels(dbsession, locale: str) -> dict[str, str]:
    """Every status's staff label in ``locale`` by code, in display order: for a page that
    only names statuses (the whole catalogue, with its wordings and transitions, is three
    queries and some eighty objects: a tenth of the audit screen's time)."""
    label = getattr(Status, Status.label_attribute(locale))
    return dict(dbsession.execute(select(Status.code, label).order_by(Status.sort_order)).all())
