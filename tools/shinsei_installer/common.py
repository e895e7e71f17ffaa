"""What both hosts get: the venv from the wheelhouse, the commands on PATH, nginx's site and
error pages, the firewall table, and the systemd units, enabled and started.

Each version gets its own venv, ``/opt/shinsei/venvs/<version>``; ``/opt/shinsei/venv``
(what every unit and command names) is a symbolic link to the one in use, switched in one
``rename``. ``/opt/shinsei/venv.previous`` names the one it was switched from: kept for a
rollback (upgrade.py), every older one is removed after an upgrade has been verified.
"""

import os
import re
import sys
from pathlib import Path

from shinsei_installer import render
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Absent, Action, Directory, File, Step, Symlink

PREFIX = "/opt/shinsei"
VENV = f"{PREFIX}/venv"
VENVS = f"{PREFIX}/venvs"
VENV_PREVIOUS = f"{PREFIX}/venv.previous"
PROJECT = "shinsei-status"
ETC = "/etc/shinsei"
UNITS = "/etc/systemd/system"
PIN = re.compile(r"^([A-Za-z0-9_.\[\],-]+?)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


class Bundle:
    """The unpacked release: install.sh, wheelhouse/, requirements/, deploy/."""

    def __init__(self, root: Path):
        self.root = root
        self.deploy = root / "deploy"
        self.wheelhouse = root / "wheelhouse"

    def requirements(self, role: str) -> Path:
        return self.root / "requirements" / f"{role}.txt"

    def pins(self, role: str) -> dict[str, str]:
        text = self.requirements(role).read_text(encoding="utf-8")
        return {normalise(name): version for name, version in PIN.findall(text)}

    def version(self, role: str) -> str:
        """This bundle's version (its project pin): its venv is named after it."""
        return self.pins(role)[PROJECT]

    def venv(self, role: str) -> str:
        return f"{VENVS}/{self.version(role)}"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def site_packages(venv: str = VENV) -> str:
    """Where the venv (made by this very Python) keeps the packages."""
    return f"{venv}/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


def venv_version(host: Host, venv: str) -> str | None:
    """The project's version installed in ``venv`` (its dist-info), None when there is none:
    read from the files, so it works on a half-installed host and needs no Python run."""
    found = sorted(host.path(within(host, venv)).glob(
        "lib/python3*/site-packages/shinsei_status-*.dist-info"))
    return found[-1].name.removesuffix(".dist-info").split("-", 1)[1] if found else None


def link_target(host: Host, path: str) -> str:
    """Where the link at ``path`` leads, as an absolute path on the host."""
    return os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(host.path(path))))


def within(host: Host, path: str) -> str:
    """``path`` with its links followed inside the host's root (``--root``: a link's
    absolute target means the tree's, not this machine's)."""
    for _ in range(8):
        link = host.path(path)
        if not link.is_symlink():
            break
        path = link_target(host, path)
    return path


def live_venv(host: Host) -> tuple[str, str | None] | None:
    """Where ``/opt/shinsei/venv`` leads (a versioned venv, or the real folder an earlier
    installer made) and its version; None when there is nothing there (first install, or
    a link to a venv that is gone)."""
    link = host.path(VENV)
    if link.is_symlink():
        target = link_target(host, VENV)
        return (target, venv_version(host, target)) if host.path(target).is_dir() else None
    if link.is_dir():
        return VENV, venv_version(host, VENV)
    return None


def make_venv(host: Host, bundle: Bundle, role: str, venv: str) -> None:
    """The bundle's packages into ``venv``, from its wheelhouse alone, hashes checked."""
    folder = host.path(venv)
    if not (folder / "bin" / "python").exists():
        host.run(sys.executable, "-m", "venv", str(folder))
    host.run(str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", "--no-index", "--find-links",
             str(bundle.wheelhouse), "--require-hashes", "-r", str(bundle.requirements(role)))


def venv_differences(host: Host, bundle: Bundle, role: str) -> list[str]:
    venv = bundle.venv(role)
    python = host.path(f"{venv}/bin/python")
    if not python.exists():
        return [f"{venv} に venv を作り、wheelhouse から入れる（オフライン）"]
    frozen = host.run(str(python), "-m", "pip", "freeze", "--all", "--disable-pip-version-check")
    installed = {normalise(n): v for n, v in PIN.findall(frozen.stdout)}
    return [f"{venv}: {name} {installed.get(name, 'なし')} → {version}"
            for name, version in sorted(bundle.pins(role).items())
            if installed.get(name) != version]


class SwitchVenv(Step):
    """``/opt/shinsei/venv`` → this bundle's venv, in one rename; the venv it led to is kept
    as ``venv.previous`` (a real folder an earlier installer made is first moved among the
    versioned ones)."""
    handlers = ("apps",)

    def __init__(self, bundle: Bundle, role: str):
        self.bundle, self.role = bundle, role
        self.previous: str | None = None      # where the link led before apply()

    def differences(self, host):
        wanted = self.bundle.venv(self.role)
        link = host.path(VENV)
        if link.is_symlink():
            current = link_target(host, VENV)
            return [] if current == wanted else [f"{VENV}: {current} から {wanted} に切り替える"]
        if link.exists():
            return [f"{VENV}: 以前のインストーラーが作ったフォルダーを {VENVS}/ へ移し（戻し用に"
                    f"残す）、{wanted} へのリンクにする"]
        return [f"{VENV} → {wanted} のリンクを張る"]

    def apply(self, host):
        wanted = self.bundle.venv(self.role)
        link = host.path(VENV)
        previous = None
        if link.is_symlink():
            previous = link_target(host, VENV)
        elif link.exists():
            previous = set_aside(host)
        point(host, VENV, wanted)
        self.previous = previous
        if previous and previous != wanted and host.path(previous).is_dir():
            point(host, VENV_PREVIOUS, previous)


def set_aside(host: Host) -> str:
    """The real venv folder of an earlier installer, moved among the versioned ones."""
    name = venv_version(host, VENV) or "unknown"
    target = f"{VENVS}/{name}"
    while host.path(target).exists():
        target += ".previous"
    host.path(VENVS).mkdir(parents=True, exist_ok=True)
    os.rename(host.path(VENV), host.path(target))
    return target


def point(host: Host, path: str, target: str) -> None:
    """``path`` becomes a link to ``target`` in one rename: never absent, never half-made.
    Relative (``venv → venvs/<version>``), so it leads to the same place under ``--root``."""
    link = host.path(path)
    temporary = link.with_name(f".{link.name}.switch")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(os.path.relpath(target, os.path.dirname(path)))
    os.replace(temporary, link)


def venv_steps(bundle: Bundle, role: str, commands: tuple[str, ...], packages: tuple[str, ...]):
    # New code in the venv is only served once the apps restart ("apps" handler).
    steps = [Directory(PREFIX), Directory(VENVS),
             Action("venv", lambda host: venv_differences(host, bundle, role),
                    lambda host: make_venv(host, bundle, role, bundle.venv(role)),
                    handlers=("apps",)),
             SwitchVenv(bundle, role)]
    steps += [Symlink(f"/usr/local/bin/{name}", f"{VENV}/bin/{name}") for name in commands]
    # nginx serves the static files through a fixed path, whatever the Python version.
    steps += [Directory(f"{PREFIX}/static")]
    steps += [Symlink(f"{PREFIX}/static/{package}", f"{site_packages()}/{package}/static")
              for package in packages]
    return steps


def nginx_steps(bundle: Bundle, host: Host, site: str, values: dict, replace_default: bool):
    for name in ("TLS_CERT", "TLS_KEY"):
        if not host.path(values[name]).is_file():
            raise InstallError(f"{name} = {values[name]}: ファイルがありません"
                               f"（サイト設定ファイルの {name} を確かめてください）")
    steps = [Directory(ETC),
             File(f"{ETC}/nginx-proxy.conf", (bundle.deploy / "nginx" / "proxy.conf").read_bytes(),
                  handlers=("nginx",)),
             # The TLS policy every TLS server block of ours includes (protocols, ciphers).
             File(f"{ETC}/nginx-tls.conf", (bundle.deploy / "nginx" / "tls.conf").read_bytes(),
                  handlers=("nginx",)),
             Directory(f"{PREFIX}/errors")]
    steps += [File(f"{PREFIX}/errors/{page.name}", page.read_bytes())
              for page in sorted((bundle.deploy / "nginx" / "errors").glob("*.html"))]
    text = render.render(bundle.deploy / "nginx" / f"{site}.conf", values).encode()
    if host.path("/etc/nginx/sites-enabled").is_dir():        # Debian
        available = f"/etc/nginx/sites-available/shinsei-{site}.conf"
        steps += [File(available, text, handlers=("nginx",)),
                  Symlink(f"/etc/nginx/sites-enabled/shinsei-{site}.conf", available)]
        if replace_default:
            steps.append(Absent("/etc/nginx/sites-enabled/default",
                                "ポート 80 は住民向けページの https への転送に使います",
                                handlers=("nginx",)))
    else:                                                       # RHEL family
        steps.append(File(f"/etc/nginx/conf.d/shinsei-{site}.conf", text, handlers=("nginx",)))
    return steps


def firewall_steps(bundle: Bundle, rules: str, values: dict, host: Host | None = None,
                   pusher: str = "", builder: str = ""):
    """The host's rules; on the intranet host (``host``, ``pusher`` and ``builder`` given)
    rendered once those accounts exist: nft refuses the whole file if a rule names an
    unknown one."""
    def text() -> bytes:
        def made(account: str) -> str:
            return account if account and host is not None and host.uid(account) is not None else ""
        filled = render.derived({**values, "PUSHER_ACCOUNT": made(pusher),
                                 "BUILDER_ACCOUNT": made(builder)})
        return render.render(bundle.deploy / "nftables" / rules, filled).encode()

    return [File(f"{ETC}/nftables.nft", text, mode=0o600, handlers=("nftables",))]


def unit_steps(bundle: Bundle, units: tuple[str, ...], enabled: tuple[str, ...]):
    steps = [File(f"{UNITS}/{unit}", (bundle.deploy / "systemd" / unit).read_bytes(),
                  handlers=("daemon-reload", "apps")) for unit in units]

    def check(host):
        out = []
        for unit in enabled:
            state = host.run(*_systemctl(host), "is-enabled", unit, check=False).stdout.strip()
            if state != "enabled":
                out.append(f"systemd: {unit} を有効にする（今は {state or '不明'}）")
            if host.live and host.run("systemctl", "is-active", unit,
                                      check=False).stdout.strip() != "active":
                out.append(f"systemd: {unit} を起動する")
        return out

    def enable(host):
        if host.live:
            host.run("systemctl", "daemon-reload")
            started = host.run("systemctl", "enable", "--now", *enabled, check=False)
            if started.returncode != 0:
                # What the administrator would look up next, in the message itself.
                failed = [u for u in enabled if host.run("systemctl", "is-active", u,
                                                         check=False).stdout.strip() != "active"]
                logs = "\n".join(host.run("journalctl", "-u", u, "-n", "15", "--no-pager",
                                           check=False).stdout for u in failed)
                raise InstallError(f"起動できないユニットがあります: {', '.join(failed)}\n{logs}")
        else:
            host.run(*_systemctl(host), "enable", *enabled)

    return [*steps, Action("systemd units", check, enable)]


def _systemctl(host: Host) -> tuple[str, ...]:
    return ("systemctl",) if host.live else ("systemctl", f"--root={host.root}")


def handlers(host: Host, apps: tuple[str, ...]) -> dict:
    """What runs once at the end when a step that names it changed something; ``apps``: the
    role's long-running services, restarted (if running) after an upgrade."""
    def nginx():
        host.run("nginx", "-t", "-q")
        host.run("systemctl", "enable", "nginx")
        host.run("systemctl", "reload-or-restart", "nginx")

    def nftables():
        host.run("nft", "-c", "-f", f"{ETC}/nftables.nft")
        host.run("systemctl", "restart", "shinsei-nftables.service")

    def sshd():
        host.run("sshd", "-t")
        service = "ssh" if host.run("systemctl", "cat", "ssh.service",
                                    check=False).returncode == 0 else "sshd"
        host.run("systemctl", "reload-or-restart", service)

    def postgresql():
        host.run("systemctl", "restart", "postgresql")

    def haproxy():
        host.run("haproxy", "-c", "-q", "-f", "/etc/haproxy/haproxy.cfg")
        host.run("systemctl", "enable", "haproxy")
        host.run("systemctl", "reload-or-restart", "haproxy")

    return {"daemon-reload": lambda: host.run("systemctl", "daemon-reload"),
            "postgresql": postgresql, "nftables": nftables, "nginx": nginx, "sshd": sshd,
            "haproxy": haproxy,
            # A role without long-running services (the standby, the balancer): nothing.
            "apps": lambda: host.run("systemctl", "try-restart", *apps) if apps else None}


HANDLER_ORDER = ("daemon-reload", "postgresql", "nftables", "sshd", "apps", "nginx", "haproxy")


def logrotate_steps(bundle: Bundle, host: Host):
    """Access-log retention, where the distribution's nginx logs as www-data (Debian)."""
    if host.uid("www-data") is None or not host.path("/etc/logrotate.d").is_dir():
        return []
    return [File("/etc/logrotate.d/shinsei-nginx",
                 (bundle.deploy / "logrotate" / "shinsei-nginx").read_bytes())]
