"""A programme's lifecycle asked of its applications: how many a step acts on, and whether
a bulk change may write to all of them (``intranet.programmes.lifecycle`` holds the states)."""

from sqlalchemy import func, select

from intranet.applications.models import Application
from intranet.programmes.events import ProgrammePageShown
from intranet.programmes.lifecycle import ensure_writable
from intranet.programmes.models import Programme


def application_count(dbsession, programme) -> int:
    """How many applications a step acts on: what each irreversible step's confirmation says."""
    return dbsession.execute(select(func.count()).select_from(Application).where(
        Application.programme_id == programme.id)).scalar_one()


def ensure_all_writable(dbsession, application_ids) -> None:
    """``ensure_writable`` for the programmes of these applications (the bulk change)."""
    for start in range(0, len(application_ids), 1000):
        found = dbsession.execute(
            select(Programme).join(Application, Application.programme_id == Programme.id)
            .where(Application.id.in_(application_ids[start:start + 1000]),
                   Programme.archived_at.is_not(None)).limit(1)).scalar_one_or_none()
        if found is not None:
            ensure_writable(found)


def count_for_confirmation(shown: ProgrammePageShown) -> None:
    """On the programme's page, a step's confirmation says how many applications it acts on."""
    confirm = shown.lifecycle.get("confirm")
    if confirm is not None:
        confirm["applications"] = application_count(shown.request.dbsession, shown.programme)
