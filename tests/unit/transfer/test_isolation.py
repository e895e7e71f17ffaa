"""The verifying half of transfer runs on the public host without the intranet's stack."""

import subprocess
import sys

BLOCKED = ["sqlalchemy", "paramiko", "intranet", "pyramid", "transaction", "zope"]


def test_verifier_imports_without_sqlalchemy_paramiko_or_intranet():
    code = (
        "import sys\n"
        f"for name in {BLOCKED!r}: sys.modules[name] = None\n"
        "import transfer.verify, transfer.lookup, transfer.table, transfer.receipt\n"
        "import transfer.keys, transfer.errors, transfer.snapshot\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
