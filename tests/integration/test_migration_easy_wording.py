"""Revision 0022 gives an installed catalogue the shipped やさしい日本語 wording with furigana,
where a supervisor has not changed it — on SQLite and PostgreSQL, and back."""

import importlib.util
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from intranet import migrations
from intranet.statuses.defaults import _WORDING, default_catalogue
from intranet.statuses.models import StatusWording
from tests.integration.test_migrations import empty_engine  # noqa: F401  (the fixture)

_PATH = Path(migrations.__file__).parent / "alembic" / "versions" / "0022_easy_wording_furigana.py"
_SPEC = importlib.util.spec_from_file_location("revision_0022", _PATH)
REVISION = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(REVISION)
CHANGED = ("{申請|しんせい}を うけつけました", "まちの ことばで", "まって ください")


def easy_wording(engine) -> dict:
    with Session(engine) as session:
        return {w.status_code: (w.resident_label, w.explanation, w.next_step)
                for w in session.execute(select(StatusWording).where(
                    StatusWording.lang == "ja-easy")).scalars()}


def test_the_shipped_wording_gains_furigana_and_a_changed_one_is_kept(empty_engine):  # noqa: F811
    migrations.upgrade(empty_engine, "0021")
    with Session(empty_engine) as session, session.begin():
        session.add_all(default_catalogue())
        session.flush()
        for wording in session.execute(select(StatusWording).where(
                StatusWording.lang == "ja-easy")).scalars():
            before = CHANGED if wording.status_code == "received" else \
                REVISION._WORDING[wording.status_code][0]
            wording.resident_label, wording.explanation, wording.next_step = before
    migrations.upgrade(empty_engine)
    after = easy_wording(empty_engine)
    assert after.pop("received") == CHANGED
    assert after == {code: wording["ja-easy"] for code, wording in _WORDING.items()
                     if code != "received"}
    migrations.downgrade(empty_engine, "0021")
    assert easy_wording(empty_engine)["deficient"] == REVISION._WORDING["deficient"][0]
    assert easy_wording(empty_engine)["received"] == CHANGED
