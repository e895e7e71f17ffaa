"""The settings loader: environment overrides and secret-file permissions."""

import pytest

from intranet.settings import SettingsError, load

BASE = {"sqlalchemy.url": "sqlite://"}


def test_environment_overrides_the_ini(tmp_path):
    settings = load(BASE, environ={"SHINSEI_SESSION_SECRET": "s" * 40,
                                   "SHINSEI_DATABASE_URL": "postgresql://db/x"})
    assert settings["session.secret"] == "s" * 40
    assert settings["sqlalchemy.url"] == "postgresql://db/x"
    assert settings["session.secure_cookie"] is True


def test_short_secret_is_refused():
    with pytest.raises(SettingsError, match=r"session\.secret"):
        load({**BASE, "session.secret": "short"}, environ={})


def test_secret_file_readable_by_others_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x" * 48)
    secret.chmod(0o644)
    with pytest.raises(SettingsError, match="group or others"):
        load({**BASE, "session.secret_file": str(secret)}, environ={})
    secret.chmod(0o600)
    assert load({**BASE, "session.secret_file": str(secret)}, environ={})["session.secret"] == "x" * 48


def test_missing_database_url_is_named():
    with pytest.raises(SettingsError, match=r"sqlalchemy\.url"):
        load({}, environ={}, web=False)
