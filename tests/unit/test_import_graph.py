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


# ---------------------------------------------------------------------------------------
# Inside the intranet: floors. Each module stands on one floor (the longest pattern that
# names it decides); an import may run sideways or down, never up. A pattern names a module
# and everything under it; ``*`` stands for one name.
INTRANET_LAYERS = (
    ("floor", (
        # What every page and command stands on: settings, the database, the schema (every
        # package's models), the audit record every domain writes through, dates, words.
        "intranet.meta", "intranet.settings", "intranet.ini", "intranet.db", "intranet.dates",
        "intranet.plausible_dates", "intranet.refusals", "intranet.i18n", "intranet.chunks",
        "intranet.charts",
        "intranet.web", "intranet.exports", "intranet.models", "intranet.*.models",
        "intranet.audit", "intranet.auth.models",
        # The stored search key is part of an application's row (models compute it).
        "intranet.applications.search_key",
        # The city's 外字 table is read with the settings, before any domain; an
        # application's fields are named as the import's columns name them, on every screen.
        "intranet.gaiji", "intranet.fields", "intranet.characters", "intranet.days",
    )),
    ("people", (
        # Who is asking and what they may do: sign-in, sessions, accounts.
        "intranet.auth", "intranet.users", "intranet.security",
    )),
    ("domains", (
        "intranet.statuses", "intranet.programmes", "intranet.deficiencies",
        "intranet.applications", "intranet.imports", "intranet.publications",
        "intranet.disposal", "intranet.usage", "intranet.backups", "intranet.migrations",
        # The dashboard's tallies are kept exact by every write (the screen is on the roof).
        "intranet.dashboard.tallies", "intranet.dashboard.services",
    )),
    ("roof", (
        # Screens and commands: they read every domain, and nothing below reads them.
        "intranet", "intranet.*.views", "intranet.*.*_views", "intranet.oversight",
        "intranet.dashboard", "intranet.stories", "intranet.cli", "intranet.*.cli",
        "intranet.demo", "intranet.health", "intranet.alembic",
        # A disclosure to an applicant describes audit records in the officer's words.
        "intranet.disclosures",
    )),
)


def layer_of(module: str, layers=INTRANET_LAYERS) -> int:
    """The floor ``module`` stands on: the longest pattern naming it (or a package above it)."""
    best = (-1, -1)
    parts = module.split(".")
    for floor, (_name, patterns) in enumerate(layers):
        for pattern in patterns:
            wanted = pattern.split(".")
            if len(wanted) <= len(parts) and all(
                    w in ("*", p) for w, p in zip(wanted, parts, strict=False)):
                best = max(best, (len(wanted), floor))
    if best[1] < 0:
        raise AssertionError(f"{module} stands on no floor: add it to INTRANET_LAYERS")
    return best[1]


def intranet_graph() -> dict[str, set[str]]:
    """The intranet's modules and the intranet modules each imports: the module that defines
    an imported name. ``from a import b`` where ``a.b`` is a module is an arrow to ``a.b``
    alone: a package's ``__init__`` only registers its routes."""
    modules = {module_name(path): path for path in (ROOT / "intranet").rglob("*.py")}

    def home(name: str) -> str | None:
        while name not in modules:
            if "." not in name:
                return None
            name = name.rsplit(".", 1)[0]
        return name

    arrows = {}
    for module, path in modules.items():
        targets = {owner for name in imports_of(path) if (owner := home(name)) is not None}
        arrows[module] = {t for t in targets if t != module and not (
            modules[t].name == "__init__.py" and any(o.startswith(t + ".") for o in targets))}
    return arrows


def cycles(arrows: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, without recursion)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in sorted(arrows):
        if root in index:
            continue
        work = [(root, iter(sorted(arrows[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in arrows:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(arrows[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def unit_of(module: str) -> str:
    """A package of the intranet (``intranet.audit``) or one of its top modules."""
    return ".".join(module.split(".")[:2])


def unit_arrows(arrows: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same arrows between units, each unit split by floor (``intranet.imports@floor``
    holds the 外字 table, ``intranet.imports@domains`` the rest)."""
    def named(module):
        return f"{unit_of(module)}@{INTRANET_LAYERS[layer_of(module)][0]}"

    units: dict[str, set[str]] = {}
    for module, targets in arrows.items():
        units.setdefault(named(module), set()).update(
            named(t) for t in targets if named(t) != named(module))
    return units


def upward_imports(arrows: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} ({INTRANET_LAYERS[layer_of(module)][0]}) imports {target} "
                  f"({INTRANET_LAYERS[layer_of(target)][0]})"
                  for module, targets in arrows.items() for target in targets
                  if layer_of(target) > layer_of(module))


def intranet_figures() -> dict:
    arrows = intranet_graph()
    return {"module cycles": cycles(arrows), "unit cycles": cycles(unit_arrows(arrows)),
            "package cycles": cycles({u: {unit_of(t) for m, ts in arrows.items()
                                          if unit_of(m) == u for t in ts} - {u}
                                      for u in {unit_of(m) for m in arrows}}),
            "upward": upward_imports(arrows)}


def test_every_intranet_module_stands_on_a_floor():
    assert all(layer_of(module) >= 0 for module in intranet_graph())


def test_no_intranet_import_runs_up_a_floor():
    assert upward_imports(intranet_graph()) == []


def test_no_cycle_inside_the_intranet():
    """Neither between modules nor between the parts of packages on one floor (a package's
    models stand on the floor and its screens on the roof: that is no cycle)."""
    arrows = intranet_graph()
    assert cycles(arrows) == []
    assert cycles(unit_arrows(arrows)) == []


def intranet_tree(tmp_path, monkeypatch, modules: dict[str, str]) -> None:
    """A small intranet under ``tmp_path`` (each folder a package) that the graph reads."""
    for relative, source in modules.items():
        path = tmp_path / "intranet" / relative
        for folder in (path.parent, path.parent.parent):
            folder.mkdir(parents=True, exist_ok=True)
            if folder != tmp_path:
                (folder / "__init__.py").touch()
        path.write_text(source)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)


def test_an_upward_import_and_a_cycle_would_be_caught(tmp_path, monkeypatch):
    """Not vacuous: the record importing a screen is reported, and so is the loop it makes."""
    intranet_tree(tmp_path, monkeypatch, {
        "audit/writer.py": "def f():\n    from intranet.oversight import labels\n",
        "oversight/labels.py": "from intranet.audit import writer\n"})
    arrows = intranet_graph()
    assert upward_imports(arrows) == [
        "intranet.audit.writer (floor) imports intranet.oversight.labels (roof)"]
    assert cycles(arrows) == [["intranet.audit.writer", "intranet.oversight.labels"]]
    assert cycles(unit_arrows(arrows)) == [["intranet.audit@floor", "intranet.oversight@roof"]]


# Whole packages stand in order too (../shared/style.md): a package may import the ones on
# its own floor or below, never above, and no two import each other. A domain's screens live
# in its package, so when a screen needs a part only a higher package holds (the programme's
# page shows its disposals, the application's page what residents read), the lower package
# announces a Pyramid event and the higher one adds its part (``programmes.events``,
# ``applications.events``).
PACKAGE_FLOORS = (
    ("foundation", ("intranet.meta", "intranet.settings", "intranet.ini", "intranet.db",
                    "intranet.dates",
                    "intranet.plausible_dates", "intranet.refusals", "intranet.i18n",
                    "intranet.chunks", "intranet.charts", "intranet.web", "intranet.exports",
                    "intranet.fields", "intranet.characters", "intranet.gaiji", "intranet.days")),
    ("record", ("intranet.audit",)),
    ("identity and vocabulary", ("intranet.auth", "intranet.security", "intranet.statuses")),
    ("domains", ("intranet.users", "intranet.programmes", "intranet.deficiencies",
                 "intranet.applications", "intranet.usage", "intranet.dashboard")),
    ("work on them", ("intranet.imports", "intranet.publications")),
    ("end of life and oversight", ("intranet.disposal", "intranet.oversight",
                                   "intranet.disclosures", "intranet.stories")),
    ("entry points", ("intranet", "intranet.cli", "intranet.demo", "intranet.health",
                      "intranet.migrations", "intranet.backups", "intranet.models",
                      "intranet.alembic")),
)


def package_floor(unit: str, floors=PACKAGE_FLOORS) -> int:
    for number, (_name, units) in enumerate(floors):
        if unit in units:
            return number
    raise AssertionError(f"{unit} stands on no package floor: add it to PACKAGE_FLOORS")


def upward_package_imports(arrows: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} imports {target}: {unit_of(target)} stands above {unit_of(module)}"
                  for module, targets in arrows.items() for target in targets
                  if package_floor(unit_of(target)) > package_floor(unit_of(module)))


def test_every_intranet_package_stands_on_a_package_floor():
    assert all(package_floor(unit_of(module)) >= 0 for module in intranet_graph())


def test_no_intranet_package_imports_one_above_it():
    assert upward_package_imports(intranet_graph()) == []


def test_no_two_intranet_packages_import_each_other():
    """Not even through others: whole packages form no cycle (the review's measure)."""
    assert intranet_figures()["package cycles"] == []


def test_a_screen_reaching_up_a_package_floor_would_be_caught(tmp_path, monkeypatch):
    """Not vacuous: the programme's page importing the disposal panel (as it once did) is
    reported, and so is the loop it makes with the disposals' record of their programme."""
    intranet_tree(tmp_path, monkeypatch, {
        "programmes/models.py": "",
        "programmes/views.py": "from intranet.disposal import panel\n",
        "disposal/panel.py": "from intranet.programmes.models import Programme\n"})
    arrows = intranet_graph()
    assert upward_package_imports(arrows) == [
        "intranet.programmes.views imports intranet.disposal.panel: "
        "intranet.disposal stands above intranet.programmes"]
    assert intranet_figures()["package cycles"] == [["intranet.disposal", "intranet.programmes"]]


def test_a_module_on_no_floor_is_named():
    try:
        layer_of("elsewhere.module")
    except AssertionError as refused:
        assert "elsewhere.module stands on no floor" in str(refused)
    else:
        raise AssertionError("a module outside the floors went unnoticed")


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


def shared_modules_imported_from_tests(root: Path) -> list[str]:
    """Each ``tests.<name>`` import under ``root/tests`` where ``<name>`` is a module of
    ``lab/``: the shared servers moved there, and the old name no longer exists (a branch
    written before the move fails on a fresh clone, not on a tree with the old file)."""
    shared = {path.stem for path in (root / "lab").glob("*.py")} - {"__init__"}
    return sorted(f"{path.relative_to(root)} imports {target}"
                  for path in (root / "tests").rglob("*.py") for target in imports_of(path)
                  if target.split(".")[:1] == ["tests"] and target.split(".")[1:2]
                  and target.split(".")[1] in shared)


def test_the_tests_import_the_shared_servers_from_the_lab():
    assert shared_modules_imported_from_tests(ROOT) == []


def test_a_shared_server_imported_from_tests_would_be_caught(tmp_path, monkeypatch):
    """Not vacuous: ``from tests.databases import ...`` (the standby test's first import)."""
    for folder in ("lab", "tests"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "lab" / "databases.py").write_text("")
    (tmp_path / "tests" / "test_x.py").write_text(
        "from tests.databases import PostgresCluster\nfrom tests.conftest import login\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert shared_modules_imported_from_tests(tmp_path) == [
        "tests/test_x.py imports tests.databases",
        "tests/test_x.py imports tests.databases.PostgresCluster"]


def test_the_lab_is_not_in_the_wheel():
    import configparser

    read = configparser.ConfigParser()
    read.read(ROOT / "setup.cfg")
    included = read["options.packages.find"]["include"].split()
    assert not any(name.split(".")[0] in ("lab", "tests", "bench") for name in included)


if __name__ == "__main__":      # the figures: python tests/unit/test_import_graph.py
    for name, value in intranet_figures().items():
        print(f"{name}: {len(value)}")
        for item in value:
            print("   ", item)
