"""The three packages' import arrows, read from the source with ``ast`` (every ``import``,
at module level or inside a function): only ``intranet → transfer`` and
``public_mirror → transfer``; and the part of ``transfer`` the public host reaches never
needs the intranet's stack (SQLAlchemy, paramiko, the transaction manager)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("intranet", "transfer", "public_mirror")
ALLOWED_ARROWS = {("intranet", "transfer"), ("public_mirror", "transfer")}
NOT_ON_THE_PUBLIC_HOST = {"sqlalchemy", "paramiko", "transaction", "zope", "alembic", "intranet"}


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


def test_public_mirror_reaches_only_the_verifying_half_of_transfer():
    modules = graph()
    reached = {t for m, ts in modules.items() if m.startswith("public_mirror")
               for t in ts if t in modules and t.startswith("transfer")}
    frontier = list(reached)
    while frontier:
        for target in modules[frontier.pop()]:
            if target in modules and target not in reached:
                reached.add(target)
                frontier.append(target)
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
