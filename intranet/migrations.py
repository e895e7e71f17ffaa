"""Schema migrations: the Alembic configuration, built in code so no extra ini is needed."""

import transaction
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from intranet.audit import writer
from intranet.db import get_tm_session
from intranet.statuses.defaults import default_catalogue
from intranet.statuses.models import Status


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "intranet:alembic")
    # Percent signs in passwords would otherwise be read as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine, revision: str) -> None:
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
