"""The build compiles the message catalogues (.po → .mo) into the wheel and stamps it with
this build's version.

Metadata lives in setup.cfg (the build system and the tools in pyproject.toml); this file
only adds the catalogue step, so a wheel built from a fresh checkout (``pip wheel .``,
``python -m build``, ``make release``) speaks English and やさしい日本語 without anyone
running ``tools/compile_catalogs.py`` first, and
the version (``transfer/version.py``: ``0.1.0+g<commit>[.dirty]``), written into the wheel
as ``transfer/_build_version.py`` so an installed host knows it without git.
"""

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).parent / "tools"))
from compile_catalogs import compile_tree  # tools/ is not a package

HERE = Path(__file__).parent


def _version_module():
    """transfer/version.py by its path: the package itself is not importable yet."""
    spec = importlib.util.spec_from_file_location("_shinsei_version", HERE / "transfer" / "version.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERSION = _version_module()


class BuildWithCatalogues(build_py):
    def run(self):
        super().run()
        # An editable install serves the source tree itself: compile there.
        tree = HERE if self.editable_mode else Path(self.build_lib)
        if compile_tree(tree) == 0:
            raise SystemExit("no message catalogue (.po) found under the packages")
        if not self.editable_mode:      # a checkout derives its version from its own git
            (tree / "transfer" / VERSION.BUILT_FILE).write_text(
                VERSION.module_text(self.distribution.get_version()), encoding="utf-8")


setup(cmdclass={"build_py": BuildWithCatalogues}, version=VERSION.derive(HERE))
