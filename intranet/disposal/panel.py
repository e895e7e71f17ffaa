"""The programme page's disposal panel: the programme's disposals, newest first, and their
states in words — added to the page when it is drawn (``ProgrammePageShown``)."""

from sqlalchemy import select

from intranet.disposal.models import STATE_LABELS, Disposal
from intranet.programmes.events import ProgrammePageShown


def of(dbsession, programme) -> dict:
    disposals = dbsession.execute(select(Disposal).where(
        Disposal.programme_id == programme.id).order_by(Disposal.id.desc())).scalars().all()
    return {"disposals": disposals, "disposal_labels": STATE_LABELS}


def add_to_page(shown: ProgrammePageShown) -> None:
    shown.lifecycle.update(of(shown.request.dbsession, shown.programme))
