"""Where uploaded import files wait between the dry run and the confirm step."""

import tempfile
from pathlib import Path


def spool_dir(settings) -> Path:
    path = Path(settings.get("imports.spool_dir") or Path(tempfile.gettempdir()) / "shinsei-imports")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
