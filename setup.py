"""The build compiles the message catalogues (.po → .mo) into the wheel.

Metadata lives in pyproject.toml; this file only adds the catalogue step, so a wheel built
from a fresh checkout (``pip wheel .``, ``python -m build``, ``make release``) speaks
English and やさしい日本語 without anyone running ``tools/compile_catalogs.py`` first.
"""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).parent / "tools"))
from compile_catalogs import compile_tree  # tools/ is not a package


class BuildWithCatalogues(build_py):
    def run(self):
        super().run()
        # An editable install serves the source tree itself: compile there.
        tree = Path(__file__).parent if self.editable_mode else Path(self.build_lib)
        if compile_tree(tree) == 0:
            raise SystemExit("no message catalogue (.po) found under the packages")


setup(cmdclass={"build_py": BuildWithCatalogues})
