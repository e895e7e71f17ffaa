"""The one settings loader: ini values, then environment overrides for secrets and URLs.

Secrets never need to sit in an ini file: ``SHINSEI_SESSION_SECRET`` (or a file named by
``session.secret_file`` / ``SHINSEI_SESSION_SECRET_FILE``, readable by the service user only)
and ``SHINSEI_DATABASE_URL`` win over whatever the ini says.
"""

import os
from pathlib import Path

from pyramid.settings import asbool

from transfer.files import read_private

DEFAULTS = {
    "shinsei.municipality_name": "○○市",
    # Host names this app answers to (space-separated); any other Host header gets 400.
    "shinsei.allowed_hosts": "localhost 127.0.0.1",
    "session.idle_timeout": "1800",
    "session.absolute_timeout": "28800",
    "session.secure_cookie": "true",
    # Failures allowed per (account name, client address) before each further attempt
    # waits, doubling up to login.max_delay_seconds. Nobody else is ever locked out.
    "login.max_failures": "5",
    "login.max_delay_seconds": "900",
    # Failures allowed from one client address across every name typed (one password tried
    # against many names), then the same doubling, for that address only.
    "login.max_failures_per_address": "20",
    # An administrator's one-time password (new account or reset) works this long.
    "login.one_time_password_hours": "72",
    "bulk.max_numbers": "20000",
    "list.page_size": "50",
    # A second person (a supervisor) approves each publication before it goes.
    "publication.four_eyes": "true",
    "imports.max_bytes": str(50 * 1024 * 1024),
    # An upload waits this long (seconds) for its confirm before it is removed.
    "imports.spool_max_age": "3600",
    # How long audit records stay in the database before `audit prune` archives them.
    "audit.retention_days": str(5 * 366),
    # How long a database backup is kept (docs/runbook): a disposal record names the day
    # the last backup still holding the disposed data ages out.
    "backup.retention_days": "35",
    # Where `shinsei-intranet backup run` makes its sets, what it packs besides the database,
    # and when `backup status` calls the newest set stale (a daily timer, plus slack).
    "backup.directory": "/var/backups/shinsei",
    "backup.config_directory": "/etc/shinsei",
    "backup.max_age_hours": "26",
    # The installed host's (an intranet.ini older than these settings gets them too): pg_dump
    # and pg_restore as postgres (peer), the staff app stopped during a restore and the audit
    # chain verified as its user afterwards. Development and tests set them empty.
    "backup.database_user": "postgres",
    "backup.web_service": "shinsei-intranet-web.service",
    "backup.verify_user": "shinsei-web",
    "pyramid.default_locale_name": "ja",
    "jinja2.i18n.domain": "shinsei",
    "jinja2.autoescape": "true",
    "jinja2.undefined": "strict",
    "tm.annotate_user": "false",
}

ENVIRONMENT = {
    "SHINSEI_DATABASE_URL": "sqlalchemy.url",
    "SHINSEI_SESSION_SECRET": "session.secret",
    "SHINSEI_SESSION_SECRET_FILE": "session.secret_file",
}

INT_SETTINGS = (
    "imports.max_bytes", "imports.spool_max_age", "audit.retention_days", "backup.retention_days",
    "backup.max_age_hours", "session.idle_timeout", "session.absolute_timeout", "login.max_failures",
    "login.max_failures_per_address", "login.max_delay_seconds", "login.one_time_password_hours",
    "bulk.max_numbers", "list.page_size",
)


class SettingsError(RuntimeError):
    """The configuration cannot run the app; the message says which setting and why."""


def load(settings: dict, environ=os.environ, web: bool = True) -> dict:
    """Merge defaults, the ini and the environment; ``web=False`` for CLI commands."""
    merged = {**DEFAULTS, **settings}
    for variable, key in ENVIRONMENT.items():
        if environ.get(variable):
            merged[key] = environ[variable]
    for key in INT_SETTINGS:
        merged[key] = int(merged[key])
    merged["session.secure_cookie"] = asbool(merged["session.secure_cookie"])
    merged["publication.four_eyes"] = asbool(merged["publication.four_eyes"])
    if not merged.get("sqlalchemy.url"):
        raise SettingsError("sqlalchemy.url (or SHINSEI_DATABASE_URL) is not set")
    if web:
        merged["session.secret"] = _session_secret(merged)
    merged["imports.gaiji"] = _gaiji_table(merged.get("imports.gaiji_table", ""))
    return merged


def _gaiji_table(path: str) -> dict:
    """The city's 外字 table (intranet.gaiji), read once at start; none: {}."""
    if not path.strip():
        return {}
    from intranet import gaiji  # it imports the app's modules; settings come first

    try:
        return gaiji.load(path.strip())
    except gaiji.TableError as error:
        raise SettingsError(f"imports.gaiji_table: {error}") from None


def _session_secret(settings) -> str:
    path = settings.get("session.secret_file")
    if path:
        return _read_private_file(Path(path))
    secret = settings.get("session.secret", "")
    if len(secret) < 32:
        raise SettingsError(
            "session.secret must be at least 32 characters; set SHINSEI_SESSION_SECRET "
            "or session.secret_file"
        )
    return secret


def _read_private_file(path: Path) -> str:
    try:
        secret = read_private(path, "secret file", SettingsError).decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: secret file is not UTF-8 text") from None
    if len(secret) < 32:
        raise SettingsError(f"{path}: secret must be at least 32 characters")
    return secret
