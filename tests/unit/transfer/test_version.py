"""One version per build: derived from git (``0.1.0+g<commit>[.dirty]``), stamped into the
wheel, shown by every command's ``--version``."""

import subprocess

import pytest

from transfer import version


def git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_each_commit_and_a_changed_tree_give_a_different_version(tmp_path):
    assert version.derive(tmp_path) == version.BASE          # no checkout: the base alone
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "one")
    first = version.derive(tmp_path)
    assert first.startswith(f"{version.BASE}+g") and not first.endswith(".dirty")
    (tmp_path / "a.txt").write_text("two\n")
    assert version.derive(tmp_path) == f"{first}.dirty"
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "two")
    second = version.derive(tmp_path)
    assert second != first and not second.endswith(".dirty")


def test_a_version_is_a_pep_440_version_pip_can_pin():
    from packaging.version import Version

    parsed = Version(version.current())
    assert parsed.base_version == version.BASE and str(parsed) == version.current()


def test_the_stamped_module_is_what_an_installed_host_reads(tmp_path, monkeypatch):
    stamped = tmp_path / "transfer_stamp"
    stamped.mkdir()
    (stamped / "stamp.py").write_text(version.module_text("0.1.0+gabc1234567"))
    monkeypatch.syspath_prepend(str(stamped))
    monkeypatch.setattr(version, "BUILT_MODULE", "stamp")
    version.current.cache_clear()
    try:
        assert version.current() == "0.1.0+gabc1234567"
    finally:
        version.current.cache_clear()


@pytest.mark.parametrize("module, prog", [("intranet.cli", "shinsei-intranet"),
                                          ("intranet.publications.cli", "shinsei-transfer"),
                                          ("public_mirror.cli", "shinsei-mirror")])
def test_every_command_says_its_version(module, prog, capsys):
    import importlib

    with pytest.raises(SystemExit) as ended:
        importlib.import_module(module).main(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out.strip() == f"{prog} {version.current()}"
