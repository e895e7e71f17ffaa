"""The three packages' import arrows, read from the source with ``ast`` (every ``import``,
at module level or inside a function): only ``intranet → transfer`` and
``public_mirror → transfer``; the part of ``transfer`` the public host reaches never
needs the intranet's stack (SQLAlchemy, paramiko, the transaction manager); and the
publication's steps that hold no database (the signer, the pusher) reach nothing but
``transfer``, the standard library, cryptography and paramiko."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("intranet", "transfer", "public_mirror")
ALLOWED_ARROWS = {("intranet", "transfer"), ("public_mirror", "transfer")}
NOT_ON_THE_PUBLIC_HOST = {"sqlalchemy", "paramiko", "transaction", "zope", "alembic", "intranet"}
# The signer's and the pusher's commands, and the one-process job's use of them.
DATABASE_FREE_STEPS = ("transfer.steps", "transfer.signer", "transfer.push")
DATABASE_FREE_MAY_USE = {"transfer", "cryptography", "paramiko"} | set(sys.stdlib_module_names)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module name ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            stem = ".".join([*base, *([node.module] if node.module else [])])
            found.add(stem)
            # "from transfer import cli" imports the module transfer.cli.
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path)
            for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def test_parser_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    sample = ROOT / "transfer" / "cli.py"
    assert "transfer.errors" in imports_of(sample)
    code = tmp_path / "transfer" / "x.py"
    code.parent.mkdir()
    code.write_text("def f():\n    from . import keys\n    import intranet.db\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert {"transfer.keys", "intranet.db"} <= imports_of(code)


def test_only_arrows_into_transfer():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items() for target in targets
        if (top := target.split(".")[0]) in PACKAGES
        and (module.split(".")[0], top) not in ALLOWED_ARROWS
        and top != module.split(".")[0])
    assert wrong == []


def reached_from(modules: dict[str, set[str]], start) -> set[str]:
    """Every module of the product that the modules in ``start`` import, directly or not."""
    reached = {m for m in start if m in modules}
    frontier = list(reached)
    while frontier:
        for target in modules[frontier.pop()]:
            if target in modules and target not in reached:
                reached.add(target)
                frontier.append(target)
    return reached


def test_public_mirror_reaches_only_the_verifying_half_of_transfer():
    modules = graph()
    reached = reached_from(modules, {t for m, ts in modules.items() if m.startswith("public_mirror")
                                     for t in ts if t.startswith("transfer")})
    needs = sorted(f"{module} imports {target}" for module in reached
                   for target in modules[module]
                   if target.split(".")[0] in NOT_ON_THE_PUBLIC_HOST)
    assert "transfer.verify" in reached
    assert needs == []
    assert "transfer.sftp" not in reached


def test_a_new_arrow_would_be_caught(tmp_path, monkeypatch):
    """The check is not vacuous: a transfer module importing the intranet is reported."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "transfer" / "loop.py").write_text("from intranet.db import get_engine\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert "transfer.loop" in graph()
    try:
        test_only_arrows_into_transfer()
    except AssertionError as caught:
        assert "transfer.loop imports intranet.db" in str(caught)
    else:
        raise AssertionError("an arrow transfer → intranet went unnoticed")


def test_the_transfer_command_parses_where_sqlalchemy_and_paramiko_are_absent():
    """``shinsei-transfer verify``/``inspect`` keep working on a host without the intranet's
    stack: the console script's module loads the database parts only inside build/publish."""
    import subprocess
    import sys

    code = ("import sys\n"
            "for name in ['sqlalchemy', 'paramiko', 'transaction', 'zope.sqlalchemy', 'alembic']:\n"
            "    sys.modules[name] = None\n"
            "from intranet.publications import cli\n"
            "try:\n"
            "    cli.main(['--help'])\n"
            "except SystemExit as done:\n"
            "    sys.exit(done.code)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for command in ("keygen", "verify", "inspect", "build", "publish"):
        assert command in result.stdout


def test_the_steps_without_a_database_reach_only_transfer_and_their_libraries():
    """The signer and the pusher run as OS users with no database role: their code, and all
    it imports, is in ``transfer`` and needs nothing beyond the standard library,
    cryptography (the key) and paramiko (SFTP)."""
    modules = graph()
    reached = reached_from(modules, DATABASE_FREE_STEPS)
    assert set(DATABASE_FREE_STEPS) <= reached
    assert {"transfer.checkpoints", "transfer.config", "transfer.step_config"} <= reached
    assert beyond_the_steps_libraries(modules) == []


def beyond_the_steps_libraries(modules: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} imports {target}"
                  for module in reached_from(modules, DATABASE_FREE_STEPS)
                  for target in modules[module]
                  if target.split(".")[0] not in DATABASE_FREE_MAY_USE)


def test_a_database_import_in_a_step_would_be_caught(tmp_path, monkeypatch):
    """Not vacuous: a module the signer reaches that imports SQLAlchemy is reported."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "transfer" / "signer.py").write_text("from transfer import spool\n")
    (tmp_path / "transfer" / "spool.py").write_text("def f():\n    import sqlalchemy\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert beyond_the_steps_libraries(graph()) == ["transfer.spool imports sqlalchemy"]


def test_the_benches_and_the_lab_import_no_test_module():
    """``bench/`` stands on its own: the servers it shares with the tests live in ``lab/``
    (not a test module, not in the wheel), so a bench never loads a test's fixtures."""
    wrong = sorted(f"{path.relative_to(ROOT)} imports {target}"
                   for folder in ("bench", "lab") for path in (ROOT / folder).rglob("*.py")
                   for target in imports_of(path) if target.split(".")[0] == "tests")
    assert wrong == []


def test_the_lab_is_not_in_the_wheel():
    import configparser

    read = configparser.ConfigParser()
    read.read(ROOT / "setup.cfg")
    included = read["options.packages.find"]["include"].split()
    assert not any(name.split(".")[0] in ("lab", "tests", "bench") for name in included)
