"""The public host: residents' page, receiver, upload-only SFTP account, and the host key line
to carry back to the intranet."""

from pathlib import Path

from shinsei_installer import common, forward, render, sshd
from shinsei_installer.common import ETC, Bundle
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Absent, Action, Directory, File, Step, User

STATE = "/var/lib/shinsei-mirror"
CARRY = "/var/lib/shinsei/carry-to-intranet"
UNITS = ("shinsei-mirror-web.service", "shinsei-mirror-receive.service",
         "shinsei-mirror-receive.path", "shinsei-mirror-receive.timer", "shinsei-nftables.service")
APPS = ("shinsei-mirror-web.service",)
ENABLED = ("shinsei-nftables.service", "shinsei-mirror-web.service", "shinsei-mirror-receive.path",
           "shinsei-mirror-receive.timer")
CARRIED = ("intranet-sign.pub", "lookup.key", "upload_ed25519.pub")


def plan(bundle: Bundle, host: Host, values: dict):
    values = render.derived(values)
    carried = Path(values["KEYS_FROM"])
    for name in CARRIED:
        if not host.path(carried / name).is_file():
            raise InstallError(f"KEYS_FROM = {carried}: {name} がありません（庁内ホストの "
                               f"/var/lib/shinsei/carry-to-public/ の中身を運んでください）")
    key = host.path(carried / "upload_ed25519.pub").read_text().split()
    steps = [User("shinsei-mirror"), User("shinsei-upload", home="/srv/shinsei")]
    steps += common.venv_steps(bundle, "public", ("shinsei-mirror",), ("public_mirror",))
    steps += [
        Directory(ETC),
        File(f"{ETC}/mirror.ini", render.render(bundle.deploy / "mirror.ini", values).encode(),
             keep=True),
        Directory(f"{ETC}/trusted"),
        # Trusted keys and the lookup key are the city's once placed: a later key rotation
        # adds files here and this installer never replaces them.
        File(f"{ETC}/trusted/intranet-sign.pub", host.path(carried / "intranet-sign.pub").read_bytes(),
             keep=True),
        File(f"{ETC}/lookup.key", host.path(carried / "lookup.key").read_bytes(),
             "shinsei-mirror", "shinsei-mirror", 0o600, keep=True),
        # A lookup key being rotated in waits here beside it (mirror.lookup_key).
        Directory(f"{ETC}/lookup-keys", "root", "shinsei-mirror", 0o750),
        mirror_settings_forward(bundle, values),
        # The chroot: it and every parent root-owned and not writable by others (sshd's rule).
        Directory("/srv/shinsei"),
        # The upload account creates and renames; the receiver (its group) lists, reads and
        # removes; setgid keeps every new file in the receiver's group.
        Directory("/srv/shinsei/inbox", "shinsei-upload", "shinsei-mirror", 0o2770),
        # The residents' page writes its daily usage counts here; the upload account (the
        # group, setgid) may read them and nothing more: no new file, no rename, no removal.
        Directory("/srv/shinsei/usage", "shinsei-mirror", "shinsei-upload", 0o2750),
        Directory(STATE, "shinsei-mirror", "shinsei-mirror", 0o750),
        Directory(f"{STATE}/quarantine", "shinsei-mirror", "shinsei-mirror", 0o700),
        Directory(f"{STATE}/state", "shinsei-mirror", "shinsei-mirror", 0o700),
        Directory(f"{STATE}/state/usage", "shinsei-mirror", "shinsei-mirror", 0o700),
        Directory("/etc/ssh/authorized_keys"),
        File("/etc/ssh/authorized_keys/shinsei-upload",
             f"restrict {key[0]} {key[1]} shinsei-transfer\n".encode(), handlers=("sshd",)),
        # sshd hardened for what this host is for (keys only, no forwarding, current
        # algorithms) and the upload account's chroot; then confirmed in force (sshd -T).
        Absent(sshd.OLD_DROP_IN, f"{sshd.DROP_IN} に置き換わりました", handlers=("sshd",)),
        File(sshd.DROP_IN, (bundle.deploy / "sshd" / "00-shinsei.conf").read_bytes(),
             handlers=("sshd",)),
        Action("sshd settings in force", sshd.check, _overridden, live_only=True),
        AdminKeys(),
        Directory("/var/lib/shinsei"),
        File(f"{CARRY}/known_hosts", lambda: _known_hosts_line(host, values["UPLOAD_ADDRESS"])),
    ]
    steps += common.nginx_steps(bundle, host, "mirror", values, replace_default=True)
    steps += common.logrotate_steps(bundle, host)
    steps += common.firewall_steps(bundle, "public-host.nft", values)
    steps += common.unit_steps(bundle, UNITS, ENABLED)
    return steps


def mirror_settings_forward(bundle: Bundle, values: dict) -> forward.BringForward:
    """A mirror.ini an earlier bundle wrote, in the shape the runbook relies on (forward.py):
    the lookup-key folder read beside the key, and the maintenance file of the leak
    procedure. The residents' page reads it at start: restarted when it changes."""
    return forward.BringForward(
        f"{ETC}/mirror.ini", "app:main", bundle.deploy / "mirror.ini", values,
        renamed=(forward.Renamed(
            "mirror.lookup_key", f"{ETC}/lookup.key", f"{ETC}/lookup.key {ETC}/lookup-keys",
            f"照会鍵の更新で次の鍵を {ETC}/lookup-keys/ に置くだけで使われるように",
            forward.nothing_in(f"{ETC}/lookup-keys", "*.key")),),
        added=(forward.Added("mirror.maintenance_file",
                             f"鍵が漏えいしたときの手順で {ETC}/maintenance を置くと保守中の"
                             "表示になるように"),),
        handlers=("apps",))


def _overridden(host: Host) -> None:
    raise InstallError("\n".join([*sshd.check(host), sshd.WHERE_TO_LOOK]))


class AdminKeys(Step):
    """Changes nothing: says so when no administrator could log in over SSH with a key."""

    def differences(self, host):
        return []

    def notes(self, host):
        if sshd.admin_keys(host):
            return []
        return ["SSH はこれから鍵でしか入れません（パスワードは受け付けません）が、管理者の公開鍵が"
                "見つかりません（/root/.ssh/authorized_keys、各管理者の ~/.ssh/authorized_keys）。"
                "コンソールから登録してください（docs/install.ja.md の 4.）"]


def _known_hosts_line(host: Host, address: str) -> bytes:
    """This host's SSH host key as the intranet's transfer job will pin it."""
    public = host.path("/etc/ssh/ssh_host_ed25519_key.pub")
    if not public.exists():
        return b"# /etc/ssh/ssh_host_ed25519_key.pub is missing: is openssh-server installed?\n"
    kind, blob = public.read_text().split()[:2]
    # Port 22: known_hosts names the bare address (brackets only go with another port).
    return f"{address} {kind} {blob}\n".encode()


def afterwards(host: Host) -> str:
    line = host.path(f"{CARRY}/known_hosts").read_text().strip()
    said = ("次に: 下の 1 行（" + f"{CARRY}/known_hosts" + "）を庁内ホストへ運び、"
            "PUBLIC_HOST_KEYS に指定して庁内ホストの install.sh をもう一度実行してください。\n" + line)
    if line.startswith("#"):
        return said
    # Compared by the administrator with what the intranet host's installer lists: a clone of
    # another public host shows the same fingerprint.
    return (said + f"\nこのホストの SSH ホスト鍵の指紋: {sshd.fingerprint(line.split(None, 1)[1])}"
            "（庁内ホストの install.sh が公開ホストごとに表示する指紋と同じであること。"
            "ほかの公開ホストと同じなら、複製した仮想マシンです: docs/install.ja.md の 5.）")
