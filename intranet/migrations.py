"""Schema migrations: the Alembic configuration, built in code so no extra ini is needed.

Alembic is imported where a migration runs: ``shinsei-intranet`` imports this module for
``initdb`` and ``upgrade``, and every other command (an import, an export) would pay ~0.15 s
of its start for it."""

from typing import TYPE_CHECKING

import transaction
from sqlalchemy import func, select

from intranet.audit import writer
from intranet.db import get_tm_session
from intranet.statuses.defaults import default_catalogue
from intranet.statuses.models import Status

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "intranet:alembic")
    # Percent signs in passwords would otherwise be read as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def initialise(engine, session_factory, actor) -> None:
    """Bring the schema to head and give a new database its default status catalogue."""
    upgrade(engine)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        if dbsession.execute(select(func.count()).select_from(Status)).scalar_one() == 0:
            dbsession.add_all(default_catalogue())
            dbsession.flush()
            writer.append(dbsession, actor, "catalogue.seed", "statuses")
        writer.append(dbsession, actor, "database.upgrade", "schema", revision="head")
