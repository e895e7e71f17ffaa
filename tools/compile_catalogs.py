"""Compile every message catalogue (.po → .mo) of both apps.

Babel's own ``pybabel compile`` insists on CLDR locale names; the residents' page also
speaks やさしい日本語, whose catalogue lives under ``ja-easy``, so the files are read and
written with Babel's catalogue functions directly. ``setup.py`` calls ``compile_tree`` on
the build directory, so every wheel carries the compiled catalogues.
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


def compile_tree(root: Path) -> int:
    """Write a .mo beside every ``*/locale/*/LC_MESSAGES/*.po`` under ``root``; how many."""
    compiled = 0
    for po in sorted(root.glob("*/locale/*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=None)
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalog)
        compiled += 1
    return compiled


def main() -> int:
    compiled = compile_tree(ROOT)
    print(f"compiled {compiled} catalogues")
    return 0 if compiled else 1


if __name__ == "__main__":
    sys.exit(main())
