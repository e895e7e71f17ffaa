"""Which ini a command reads without -c: the installed one, or a plain sentence saying how."""

import pytest

from transfer import config_file


@pytest.fixture
def places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHINSEI_MIRROR_CONFIG", raising=False)
    installed = tmp_path / "etc" / "mirror.ini"
    monkeypatch.setitem(config_file.INSTALLED, "mirror", str(installed))
    return tmp_path, installed


def test_the_installed_file_is_found_without_c(places):
    _, installed = places
    installed.parent.mkdir()
    installed.write_text("[app:main]\n")
    assert config_file.resolve(None, "mirror") == str(installed)


def test_c_and_the_variable_come_first(places, monkeypatch):
    root, installed = places
    installed.parent.mkdir()
    installed.write_text("")
    given = root / "given.ini"
    given.write_text("")
    assert config_file.resolve(str(given), "mirror") == str(given)
    monkeypatch.setenv("SHINSEI_MIRROR_CONFIG", str(given))
    assert config_file.resolve(None, "mirror") == str(given)


def test_nothing_found_says_how_to_name_it(places):
    _, installed = places
    with pytest.raises(SystemExit) as stop:
        config_file.resolve(None, "mirror")
    assert "-c FILE" in str(stop.value) and "SHINSEI_MIRROR_CONFIG" in str(stop.value)
    assert str(installed) in str(stop.value)


def test_a_named_file_that_is_missing_is_named(places):
    with pytest.raises(SystemExit, match=r"nowhere\.ini がありません"):
        config_file.resolve("nowhere.ini", "mirror")
