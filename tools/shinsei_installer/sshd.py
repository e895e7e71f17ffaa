"""The public host's sshd: what deploy/sshd/00-shinsei.conf states is what sshd runs with.

sshd keeps the first value it reads for each setting, so a line read before ours (in
/etc/ssh/sshd_config above its Include, or a drop-in named before 00-) would quietly win.
``sshd -T`` prints the settings sshd would run with (for a given connection: the upload
account's Match block); each one the file states is compared with it, and the install stops
naming any that another file decides."""

import base64
import binascii
import hashlib
from pathlib import Path

from shinsei_installer.host import Host

DROP_IN = "/etc/ssh/sshd_config.d/00-shinsei.conf"
# Its name before 0.2: read after a city's own drop-ins (50-cloud-init.conf …), not before.
OLD_DROP_IN = "/etc/ssh/sshd_config.d/shinsei-upload.conf"
UPLOAD_USER = "shinsei-upload"
# `sshd -T` asked as if for the upload account's connection (only the user name matters).
UPLOAD_CONNECTION = f"user={UPLOAD_USER},host=localhost,addr=127.0.0.1"
# How `sshd -T` prints a value the file spells another way.
PRINTED_AS = {"prohibit-password": "without-password"}


def stated(text: str) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """(the global settings, the Match block's) as {keyword in lower case: (Keyword, value)}.
    Only whole lines are comments in sshd_config."""
    everyone: dict[str, tuple[str, str]] = {}
    upload: dict[str, tuple[str, str]] = {}
    current = everyone
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, *rest = line.split(None, 1)
        value = rest[0] if rest else ""
        if keyword.lower() == "match":
            current = upload
            continue
        current[keyword.lower()] = (keyword, value.strip())
    return everyone, upload


def parse_effective(output: str) -> dict[str, str]:
    """`sshd -T` output → {keyword: value} (keywords sshd prints once: all the file sets)."""
    settings = {}
    for line in output.splitlines():
        keyword, _, value = line.partition(" ")
        settings[keyword] = value
    return settings


def differences(text: str, in_force: dict[str, str], for_upload: dict[str, str]) -> list[str]:
    """Each setting of ``text`` that sshd does not run with, in Japanese."""
    everyone, upload = stated(text)
    out = []
    for settings, effective, whom in ((everyone, in_force, "全員"),
                                      (upload, for_upload, f"{UPLOAD_USER}")):
        for key, (keyword, value) in settings.items():
            wanted = PRINTED_AS.get(value, value)
            if effective.get(key) != wanted:
                out.append(f"sshd: {keyword} が {effective.get(key, '（なし）')} です（{whom}; "
                           f"{DROP_IN} では {value}）")
    return out


def check(host: Host) -> list[str]:
    """What sshd would run with that differs from the installed drop-in ([] before it is)."""
    path = host.path(DROP_IN)
    if not path.exists():
        return []
    in_force = parse_effective(host.run("sshd", "-T").stdout)
    for_upload = parse_effective(host.run("sshd", "-T", "-C", UPLOAD_CONNECTION).stdout)
    return differences(path.read_text(), in_force, for_upload)


WHERE_TO_LOOK = ("ほかの設定が先に読まれて優先されています。/etc/ssh/sshd_config の Include 行より前と、"
                 "/etc/ssh/sshd_config.d/ で 00-shinsei.conf より前に読まれるファイルを確かめ、"
                 "その行を消してから install.sh をもう一度実行してください（sshd -T で確かめられます）。")


def fingerprint(public_key_line: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key ("kind base64 …"), as ssh-keygen -l shows it."""
    try:
        blob = base64.b64decode(public_key_line.split()[1], validate=True)
    except (IndexError, binascii.Error):
        return "SHA256:?（鍵として読めません）"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def admin_keys(host: Host) -> list[Path]:
    """Non-empty authorized_keys files of root and of the accounts people log in with."""
    homes = ["/root"]
    passwd = host.path("/etc/passwd")
    if passwd.exists():
        for line in passwd.read_text().splitlines():
            fields = line.split(":")
            if len(fields) >= 7 and fields[2].isdigit() and int(fields[2]) >= 1000 \
                    and not fields[6].endswith(("nologin", "false")):
                homes.append(fields[5])
    found = []
    for home in homes:
        for name in ("authorized_keys", "authorized_keys2"):
            path = host.path(f"{home}/.ssh/{name}")
            if path.is_file() and any(line.strip() and not line.startswith("#")
                                      for line in path.read_text(errors="replace").splitlines()):
                found.append(path)
    return found
