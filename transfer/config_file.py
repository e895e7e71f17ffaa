"""Which ini a command reads when none is given: the installed host's, so an administrator
can type ``shinsei-intranet audit verify`` or ``shinsei-mirror status`` as the guide says,
and a missing file is one plain sentence instead of a traceback."""

import os
import sys
from pathlib import Path

INSTALLED = {"intranet": "/etc/shinsei/intranet.ini", "mirror": "/etc/shinsei/mirror.ini"}
VARIABLES = {"intranet": "SHINSEI_INTRANET_CONFIG", "mirror": "SHINSEI_MIRROR_CONFIG"}
DEVELOPMENT = {"intranet": "development.ini", "mirror": "mirror-development.ini"}


def resolve(given: str | None, app: str) -> str:
    """``-c FILE``, else $SHINSEI_…_CONFIG, else the installed file, else the development
    ini in the current directory; exits with a message naming all of them if none exists."""
    variable = VARIABLES[app]
    named = given or os.environ.get(variable)
    if named:
        if Path(named).is_file():
            return named
        sys.exit(f"設定ファイル {named} がありません（-c または {variable} で指定されたもの）")
    for candidate in (INSTALLED[app], DEVELOPMENT[app]):
        if Path(candidate).is_file():
            return candidate
    sys.exit(f"設定ファイルが見つかりません: -c FILE で指定するか {variable} を設定してください"
             f"（install.sh は {INSTALLED[app]} に置きます）")
