"""intranet.ini reads an ini exactly as pyramid.paster does, and the commands start without
what only the staff app needs (pyramid.config, alembic, an argon2 hash)."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from pyramid import paster, testing

from intranet import ini
from intranet.auth import passwords

ROOT = Path(__file__).parents[3]

WRITTEN = """\
[DEFAULT]
shared = from the defaults

[app:main]
use = egg:shinsei-status#intranet
sqlalchemy.url = sqlite:///%(here)s/shinsei.sqlite
set shared = set by the app section
get copied = shared
plain = 100%% plain

[app:other]
use = egg:shinsei-status#intranet
sqlalchemy.url = sqlite:///other.sqlite

[loggers]
keys = root, shinsei

[handlers]
keys = quiet

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers = quiet

[logger_shinsei]
level = DEBUG
handlers =
qualname = shinsei_ini_test

[handler_quiet]
class = NullHandler
args = ()
level = NOTSET
formatter = plain

[formatter_plain]
format = %%(message)s
"""


@pytest.fixture
def written(tmp_path):
    path = tmp_path / "city.ini"
    path.write_text(WRITTEN, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name", ["development.ini", "deploy/intranet.ini"])
def test_the_shipped_files_read_as_pyramid_reads_them(name):
    path = str(ROOT / name)
    assert dict(ini.app_settings(path)) == dict(paster.get_appsettings(path))


def test_here_set_get_and_a_named_app_read_as_pyramid_reads_them(written):
    settings = ini.app_settings(written)
    assert dict(settings) == dict(paster.get_appsettings(written))
    assert settings["sqlalchemy.url"] == f"sqlite:///{Path(written).parent}/shinsei.sqlite"
    assert settings["copied"] == "set by the app section"
    assert settings["plain"] == "100% plain"
    assert dict(ini.app_settings(f"{written}#other")) == dict(
        paster.get_appsettings(f"{written}#other"))
    assert ini.app_settings(f"{written}#other")["sqlalchemy.url"] == "sqlite:///other.sqlite"


def test_logging_is_set_from_the_files_sections(written):
    ini.setup_logging(written)
    assert logging.getLogger("shinsei_ini_test").level == logging.DEBUG


def test_a_missing_file_is_an_error_not_empty_settings(tmp_path):
    with pytest.raises(FileNotFoundError):
        ini.app_settings(str(tmp_path / "none.ini"))


# What a command imports to start: the import (a bank file), the publication's two database
# steps, and what they read. None of it may bring in the staff app's own start-up, nor
# openpyxl before a workbook is read (each ~0.05–0.2 s of every start).
COMMANDS = ("intranet.cli", "intranet.publications.cli", "intranet.publications.steps",
            "intranet.publications.builder", "intranet.publications.recorder",
            "intranet.publications.job", "intranet.imports.apply", "intranet.db")
NOT_AT_THE_START = ("pyramid.config", "pyramid.paster", "alembic", "webob", "pkg_resources",
                    "openpyxl", "intranet.web")


def test_the_commands_start_without_the_staff_apps_start_up():
    code = (f"import importlib, sys\n"
            f"for name in {COMMANDS!r}:\n"
            f"    importlib.import_module(name)\n"
            f"from intranet.auth import passwords\n"
            f"from intranet import cli\n"
            f"cli._value_words({{}}, None)('route', 'postal')   # the import's words\n"
            f"print(sorted(n for n in {NOT_AT_THE_START!r} if n in sys.modules))\n"
            f"print(passwords.dummy_hash.cache_info().currsize)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    loaded, hashed = result.stdout.split("\n")[:2]
    assert (loaded, hashed) == ("[]", "0"), result.stdout


def test_the_staff_app_makes_the_timing_hash_when_it_starts():
    """An unknown name's login verifies against this hash: made at the app's start, the first
    unknown name costs what a wrong password costs."""
    passwords.dummy_hash.cache_clear()
    config = testing.setUp()
    try:
        config.include("intranet.auth")
        assert passwords.dummy_hash.cache_info().currsize == 1
    finally:
        testing.tearDown()
    assert passwords.verify(None, "anything at all") is False
