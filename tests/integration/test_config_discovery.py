"""`shinsei-intranet audit verify` and `shinsei-mirror status` typed without -c, as an
administrator would, on a machine where nothing is installed: one sentence naming where the
file is looked for and how to give it, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(("command", "installed"), [
    (["shinsei-intranet", "audit", "verify"], "/etc/shinsei/intranet.ini"),
    (["shinsei-mirror", "status"], "/etc/shinsei/mirror.ini"),
])
def test_without_c_the_command_says_where_it_looked(tmp_path, command, installed):
    if Path(installed).exists():
        pytest.skip(f"{installed} exists on this machine")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    result = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert installed in result.stderr and "-c" in result.stderr
    assert "Traceback" not in result.stderr
