"""The installer (tools/shinsei_installer) is not a package of the project: put it on the path."""

import sys
from pathlib import Path

TOOLS = Path(__file__).parents[3] / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))
