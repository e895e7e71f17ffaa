"""shinsei-status intranet: staff manage benefit applications and their statuses.

The one composition root. Subsystems are included in dependency order; each registers
only its own routes and services.
"""

from intranet import settings as settings_loader
from transfer import collector


def main(global_config, **settings):
    """Build the WSGI app (``paste.app_factory``; ``pserve development.ini``)."""
    # Imported here, not with the package: every command (an import, the publication's
    # steps) imports ``intranet`` too, and pyramid.config is ~0.13 s of a process's start.
    from pyramid.config import Configurator

    settings = settings_loader.load(settings)
    with Configurator(settings=settings) as config:
        config.set_session_factory(_session_factory(settings))
        # Database first: security needs request.dbsession to load the identity.
        config.include("intranet.db")
        config.include("intranet.security")
        config.include("intranet.i18n")
        config.include("pyramid_jinja2")
        config.include("intranet.web")
        # Domains, each with its own routes.
        config.include("intranet.auth")
        config.include("intranet.dashboard")
        config.include("intranet.usage")         # the relief figure beside the dashboard
        config.include("intranet.applications")
        config.include("intranet.statuses")
        config.include("intranet.programmes")
        config.include("intranet.deficiencies")
        config.include("intranet.users")
        config.include("intranet.oversight")     # the officer's audit and transfer screens
        config.include("intranet.publications")
        config.include("intranet.imports")
        config.include("intranet.disposal")
        config.include("intranet.disclosures")
        config.include("intranet.stories")       # an application's story: reads all the above
        config.include("intranet.health")
        config.scan(ignore=["intranet.alembic", "intranet.cli"])
    app = config.make_wsgi_app()
    # What the start made lives as long as the server: out of the collector's walks.
    collector.freeze_the_start()
    return app


def _session_factory(settings):
    from pyramid.session import SignedCookieSessionFactory

    return SignedCookieSessionFactory(
        settings["session.secret"],
        cookie_name="shinsei_session",
        # The server-side session record enforces the idle timeout (and can say so on
        # the login page); the cookie itself only lives as long as the longest session.
        timeout=settings["session.absolute_timeout"],
        reissue_time=60,
        httponly=True,
        secure=settings["session.secure_cookie"],
        samesite="Strict",
    )
