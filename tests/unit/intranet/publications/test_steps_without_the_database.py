"""The signer's and the pusher's commands load no database layer at all: with SQLAlchemy,
psycopg, the transaction manager and the intranet's database module made unimportable,
they still parse, import their step and run it far enough to read their configuration."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
BLOCK = ("import sys\n"
         "for name in ['sqlalchemy', 'psycopg', 'transaction', 'zope.sqlalchemy', 'alembic',\n"
         "             'intranet.db', 'intranet.models']:\n"
         "    sys.modules[name] = None\n")


def run(code):
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_the_step_modules_import_without_the_database_layer():
    result = run("import transfer.signer, transfer.steps, transfer.push, transfer.step_config\n"
                 "print('ok')\n")
    assert result.stdout.strip() == "ok", result.stderr


def test_the_commands_run_to_their_configuration_without_the_database_layer(tmp_path):
    ini = tmp_path / "step.ini"
    ini.write_text("[shinsei-transfer]\ntransfer.spool_dir = /nowhere\n")
    for command in ("sign-spool", "push-outbox"):
        result = run("from intranet.publications import cli\n"
                     f"sys.exit(cli.main([{command!r}, '-c', {str(ini)!r}]))\n")
        # Exit 2: its configuration is incomplete — it got that far with no database layer.
        assert result.returncode == 2 and "設定" in result.stderr, (command, result.stderr)
