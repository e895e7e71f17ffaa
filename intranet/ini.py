"""The intranet ini as the commands read it: the app's settings and the logging sections,
exactly as ``pyramid.paster`` reads them (PasteDeploy, through plaster_pastedeploy's loader).

Why not ``pyramid.paster`` itself: it imports ``pyramid.config`` and finds its loader by
scanning every installed distribution's entry points — ~0.2 s of each command's start. The
publication starts three step processes between a supervisor's approval and the residents'
answer, and a bank file's import is a command too. The file is a path (``-c``): the one
loader that reads it is named here.
"""

from typing import Any

import plaster
import plaster_pastedeploy


def _loader(config_uri: str) -> plaster_pastedeploy.Loader:
    return plaster_pastedeploy.Loader(plaster.parse_uri(config_uri))


def app_settings(config_uri: str) -> dict[str, Any]:
    """The ``[app:main]`` section (``file.ini#name``: that app's), PasteDeploy's defaults
    and ``%(here)s`` applied — ``pyramid.paster.get_appsettings``."""
    return _loader(config_uri).get_wsgi_app_settings()


def setup_logging(config_uri: str) -> None:
    """The file's ``[loggers]`` sections, else ``logging.basicConfig`` —
    ``pyramid.paster.setup_logging``."""
    _loader(config_uri).setup_logging()
