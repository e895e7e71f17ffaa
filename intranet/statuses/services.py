"""Reading and changing the status catalogue."""

from sqlalchemy import select

from intranet.statuses.models import Status


def load_catalogue(dbsession) -> dict[str, Status]:
    """Every status by code, in display order."""
    statuses = dbsession.execute(select(Status).order_by(Status.sort_order)).scalars()
    return {status.code: status for status in statuses}
