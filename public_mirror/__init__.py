"""shinsei-status public mirror: verifies snapshots and answers residents' lookups.

Runs on the internet-facing host with only this package, Pyramid and transfer's verifying
code: no database, no SQLAlchemy, no paramiko, nothing of the intranet.
"""

from pyramid.config import Configurator

from public_mirror import settings as settings_loader
from public_mirror.fastpath import LookupFastPath


def main(global_config, **settings):
    """The one composition root (``pserve deploy/mirror.ini``)."""
    settings = settings_loader.load(settings)
    with Configurator(settings=settings) as config:
        config.include("public_mirror.services")   # snapshot, limiter, usage, desk, pages
        config.include("public_mirror.web")        # headers, static files, theme, logo
        config.include("public_mirror.views")
        config.scan("public_mirror.views")
        config.scan("public_mirror.api")
    app = config.make_wsgi_app()
    return LookupFastPath(app, app.registry.mirror_services)
