"""The README draws the house: its layout names every package and every module of the three
products, so a newcomer finds where a thing lives (where the snapshot is signed, say) by
reading it. The parts every package names alike (``models.py``, ``views.py`` …) are
described once, above the layout."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = ("transfer", "public_mirror", "intranet")
# The file names every package uses for the same part (README: "the same file names").
ALIKE = {"__init__", "models", "views", "services", "forms", "errors", "settings", "cli"}


def layout(readme: str) -> tuple[dict[str, str], str]:
    """Each package's entry in the README's layout block (``transfer/``, ``  audit/`` as
    ``intranet/audit``), and the whole of the layout section."""
    section = readme[readme.index("### Layout"):readme.index("\n## ", readme.index("### Layout"))]
    start = section.index("\ntransfer/ ")
    entries: dict[str, str] = {}
    current = None
    for line in section[start:section.index("```", start)].splitlines():
        named = re.match(r"^( {0,2})([a-z_]+)/\s", line)
        if named:
            current = ("intranet/" if named.group(1) else "") + named.group(2)
            entries[current] = line[named.end():]
        elif current is not None:
            entries[current] += " " + line
    return entries, section


def unnamed(root: Path = ROOT) -> list[str]:
    entries, section = layout((root / "README.md").read_text(encoding="utf-8"))
    packages = [*PRODUCTS, *(f"intranet/{p.name}" for p in sorted((root / "intranet").iterdir())
                             if (p / "__init__.py").exists())]
    missing = [f"{package}/ has no entry" for package in packages if package not in entries]
    for package in packages:
        for module in sorted((root / package).glob("*.py")):
            path = f"{package}/{module.name}"
            if module.stem in ALIKE or path in section:
                continue
            if not re.search(rf"\b{module.stem}\b", entries.get(package, "")):
                missing.append(path)
    return missing


def test_the_readme_layout_names_every_package_and_module():
    assert unnamed() == []


def test_a_new_module_the_layout_does_not_name_is_reported(tmp_path):
    """Not vacuous: a module added to the intranet's audit package without a word in the
    README is reported, and so is a package with no entry."""
    for package in (*PRODUCTS, "intranet/audit", "intranet/oversight"):
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "intranet" / "audit" / "chain.py").write_text("")
    (tmp_path / "intranet" / "audit" / "sealing.py").write_text("")
    (tmp_path / "intranet" / "audit" / "views.py").write_text("")
    (tmp_path / "README.md").write_text(
        "### Layout\n\n```\ntransfer/          cli.py\npublic_mirror/     web.py\n"
        "intranet/          db.py\n  audit/           chain.py (the chain)\n```\n\n## Next\n")
    assert unnamed(tmp_path) == ["intranet/oversight/ has no entry", "intranet/audit/sealing.py"]
