"""The programme page's disposal panel: the programme's disposals, newest first, and their
states in words."""

from sqlalchemy import select

from intranet.disposal.models import STATE_LABELS, Disposal


def of(dbsession, programme) -> dict:
    disposals = dbsession.execute(select(Disposal).where(
        Disposal.programme_id == programme.id).order_by(Disposal.id.desc())).scalars().all()
    return {"disposals": disposals, "disposal_labels": STATE_LABELS}
