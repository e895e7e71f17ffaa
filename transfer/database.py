"""Reading the intranet database from the transfer job (the only transfer module that does)."""

from contextlib import contextmanager

import transaction
from pyramid.paster import get_appsettings

from intranet import settings as settings_loader
from intranet.db import get_engine, get_session_factory, get_tm_session


@contextmanager
def open_database(config_uri: str):
    """(session factory, settings) for the intranet database named by the ini."""
    settings = settings_loader.load(get_appsettings(config_uri), web=False)
    engine = get_engine(settings)
    try:
        yield get_session_factory(engine), settings
    finally:
        engine.dispose()


@contextmanager
def open_session(config_uri: str):
    """A read session on the intranet database named by the ini, and its settings."""
    with open_database(config_uri) as (session_factory, settings), transaction.manager:
        yield get_tm_session(session_factory, transaction.manager), settings
