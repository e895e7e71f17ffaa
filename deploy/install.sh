#!/bin/sh
# shinsei-status installer (the release bundle's top level): ./install.sh --role intranet|public
# [--config FILE] [--check]. Needs root and Python 3.11 (python3.11, or python3 if it is 3.11+);
# installs from the bundle alone, with no network. See docs/install.ja.md.
set -eu
# The services' own accounts read the venv and the templates: whatever the administrator's
# umask, what is installed is world-readable unless a step gives it a stricter mode.
umask 022
here=$(cd "$(dirname "$0")" && pwd)
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PYTHONPATH="$here" exec "$candidate" -m shinsei_installer --bundle "$here" "$@"
    fi
done
echo "install.sh: Python 3.11 以上（venv 付き）がありません。Debian 12: apt install python3-venv /" \
     "RHEL 9 系: dnf install python3.11 を OS のインストール媒体から入れてください" >&2
exit 2
