"""The shipped ini files load and build the app."""

from pathlib import Path

import pytest
from pyramid.paster import get_appsettings

from intranet import main
from intranet.db import engine_of
from intranet.settings import SettingsError

ROOT = Path(__file__).parents[2]


def test_production_ini_refuses_to_start_without_a_session_secret(monkeypatch):
    monkeypatch.delenv("SHINSEI_SESSION_SECRET", raising=False)
    monkeypatch.delenv("SHINSEI_SESSION_SECRET_FILE", raising=False)
    settings = get_appsettings(str(ROOT / "deploy" / "intranet.ini"))
    with pytest.raises(SettingsError, match="session"):
        main({}, **settings)


def test_production_ini_builds_with_its_environment(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 48)
    secret.chmod(0o600)
    monkeypatch.setenv("SHINSEI_SESSION_SECRET_FILE", str(secret))
    monkeypatch.setenv("SHINSEI_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite")
    settings = get_appsettings(str(ROOT / "deploy" / "intranet.ini"))
    app = main({}, **settings)
    assert app.registry.settings["session.secure_cookie"] is True
    engine_of(app.registry).dispose()


def test_development_ini_loads():
    settings = get_appsettings(str(ROOT / "development.ini"))
    assert settings["sqlalchemy.url"].startswith("sqlite:///")


def test_mirror_development_ini_loads():
    settings = get_appsettings(str(ROOT / "mirror-development.ini"))
    assert settings["mirror.origin"] == "999999:test"


def test_mirror_production_ini_names_every_path():
    settings = get_appsettings(str(ROOT / "deploy" / "mirror.ini"))
    for name in ("mirror.inbox", "mirror.state", "mirror.trusted_keys", "mirror.lookup_key"):
        assert settings[name].startswith("/")
