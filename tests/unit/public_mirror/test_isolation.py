"""The public host runs the mirror without the intranet's stack."""

import subprocess
import sys


def test_mirror_imports_without_sqlalchemy_paramiko_or_intranet():
    code = (
        "import sys\n"
        "for name in ['sqlalchemy', 'paramiko', 'intranet', 'alembic', 'zope.sqlalchemy',\n"
        "             'psycopg', 'argon2']: sys.modules[name] = None\n"
        "import public_mirror, public_mirror.views, public_mirror.api, public_mirror.cli\n"
        "import public_mirror.receive, public_mirror.store\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
