"""``GET /healthz`` on the intranet: for the installer after an upgrade and the city's
monitoring — the running build's version and whether the database answers at the schema
this build expects. No sign-in (monitoring has no account); nothing personal, no counts.
"""

import functools
import logging

from pyramid.view import view_config
from sqlalchemy import text

from transfer import version

log = logging.getLogger(__name__)


@functools.cache
def schema_head() -> str:
    """The newest migration this build carries."""
    from alembic.script import ScriptDirectory

    from intranet.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


@view_config(route_name="healthz", request_method="GET", renderer="json")
def healthz(request):
    health = {"status": "ok", "version": version.current(), "schema": None,
              "schema_head": schema_head()}
    try:
        health["schema"] = request.dbsession.execute(
            text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as error:  # what monitoring must see, not a 500 page
        log.error("health check: the database does not answer: %s", type(error).__name__)
        health.update(status="database", problem=f"database: {type(error).__name__}")
    else:
        if health["schema"] != health["schema_head"]:
            health.update(status="schema", problem="the schema is not at this build's head "
                                                   "(shinsei-intranet initdb)")
    if health["status"] != "ok":
        request.response.status = 503
    return health


def includeme(config):
    config.add_route("healthz", "/healthz")
