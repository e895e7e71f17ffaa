"""The balancer's sequence agent: HAProxy takes out a public host whose snapshot is behind the
others' (issue 29).

Each public host's /healthz says only what that host holds. A host that was off while a
publication was delivered comes back "ok" with the older snapshot, and residents sent to it
would see older statuses until the next transfer run catches it up. No single host can know
that; the balancer, which sees them all, can. This agent asks every public host's /healthz
every POLL seconds and answers HAProxy's agent check (deploy/balancer/haproxy.cfg,
``agent-check``) for one host at a time, named by the line HAProxy sends:

- ``down #behind: sequence 41 < newest 42`` when that host answers residents but holds an
  older snapshot than the newest answering host: at once when it comes back (or first
  answers) behind; after BEHIND_GRACE seconds when it held the newest until another host
  received a newer one (a delivery reaches the hosts one after another, within seconds);
- ``up`` when it answers residents with the newest (or is within that grace);
- ``down #stale`` (its /healthz status) or ``down #unreachable`` when it does not answer
  residents, as HAProxy's own /healthz check says too. The agent must speak for these hosts
  as well: HAProxy's own check alone would put a host back after two good answers, before
  the agent could see that it came back behind;
- an empty line (no word at all) when no host answers: with nothing to compare, the agent
  leaves every host to HAProxy's own check.

The host holding the newest sequence is never "behind", so the agent never takes out every
host that answers residents. HAProxy takes an agent it cannot reach as no word at all: when
the agent is stopped the hosts in rotation stay in by their health checks alone (it fails
open, as a balancer should), and one it had taken out stays out until the agent is back (the
unit restarts it) and says "up".

Standard library only: it runs with Debian's python3 on the balancer host, where nothing else
of the system is installed. Settings: one INI file (install.sh writes
/etc/shinsei/balancer-agent.ini from the values file).
"""

import configparser
import http.client
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

POLL = 2.0
TIMEOUT = 1.5
BEHIND_GRACE = 10.0
NO_WORD = ""
# The /healthz statuses under which a host answers residents (as haproxy.cfg's http-check).
ANSWERING = ("ok", "receiver_stopped")


@dataclass(frozen=True)
class Health:
    """What one host's /healthz said: None for each when it could not be asked."""

    status: str | None
    sequence: int | None

    @property
    def answering(self) -> bool:
        return self.status in ANSWERING and isinstance(self.sequence, int)

    @property
    def reason(self) -> str:
        """Why it does not answer residents, in HAProxy's stats (after "down #")."""
        if self.status is None:
            return "unreachable"
        return "no sequence" if self.status in ANSWERING else self.status


@dataclass(frozen=True)
class Settings:
    listen: tuple[str, int]
    server_name: str
    ca_file: str
    grace: float
    hosts: dict[str, tuple[str, int]]


class SettingsError(Exception):
    pass


def read_settings(path: str) -> Settings:
    parser = configparser.ConfigParser()
    if not parser.read(path, encoding="utf-8"):
        raise SettingsError(f"{path}: cannot be read")
    try:
        agent = parser["agent"]
        hosts = {name: _address(value, 443) for name, value in parser["hosts"].items()}
        settings = Settings(_address(agent["listen"], 0), agent["server_name"],
                            agent.get("ca_file", "/etc/ssl/certs/ca-certificates.crt"),
                            agent.getfloat("behind_grace", BEHIND_GRACE), hosts)
    except (KeyError, ValueError) as error:
        raise SettingsError(f"{path}: {error}") from None
    if not settings.hosts:
        raise SettingsError(f"{path}: [hosts] names no public host")
    return settings


def _address(text: str, default_port: int) -> tuple[str, int]:
    """"10.0.0.5", "10.0.0.5:8443", "[2001:db8::5]:443" → (host, port)."""
    host, _, port = text.strip().rpartition(":")
    if not host or "]" in port or (":" in host and not host.startswith("[")):
        host, port = text.strip(), str(default_port)
    return host.strip("[]"), int(port)


def ask(address: tuple[str, int], settings: Settings, context: ssl.SSLContext) -> Health:
    """One /healthz, over TLS with the host's certificate checked against SERVER_NAME (the
    name sent as SNI, as HAProxy's own check does: the host refuses any other)."""
    conn = http.client.HTTPSConnection(address[0], address[1], timeout=TIMEOUT, context=context)
    try:
        raw = socket.create_connection(address, timeout=TIMEOUT)
        conn.sock = context.wrap_socket(raw, server_hostname=settings.server_name)
        conn.request("GET", "/healthz", headers={"Host": settings.server_name})
        answer = json.loads(conn.getresponse().read(65536))
        sequence = answer.get("sequence")
        return Health(answer.get("status"), sequence if isinstance(sequence, int) else None)
    except (OSError, ValueError, http.client.HTTPException, AttributeError):
        return Health(None, None)
    finally:
        conn.close()


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The public hosts' CA (PUBLIC_HOSTS_CA): one the agent cannot read stops it at start,
    named, rather than leaving every host unreachable to it."""
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as error:
        raise SettingsError(f"ca_file = {settings.ca_file}: {error}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Verdicts:
    """The pure part: what to answer for each host, from what the hosts said, which hosts held
    the newest at the last look, and since when a host has been behind."""

    def __init__(self, grace: float):
        self.grace = grace
        self.behind_since: dict[str, float] = {}
        self.current: set[str] = set()
        self.words: dict[str, str] = {}

    def update(self, seen: dict[str, Health], now: float) -> dict[str, str]:
        sequences = [health.sequence for health in seen.values()
                     if health.answering and health.sequence is not None]
        newest = max(sequences) if sequences else None
        words = {name: self._word(name, health, newest, now) for name, health in seen.items()}
        self.current = {name for name, health in seen.items()
                        if health.answering and health.sequence == newest}
        self.words = words
        return words

    def _word(self, name: str, health: Health, newest: int | None, now: float) -> str:
        if newest is None:
            return NO_WORD          # no host answers: the agent has nothing to compare
        if not health.answering:
            self.behind_since.pop(name, None)
            return f"down #{health.reason}"
        if health.sequence == newest:
            self.behind_since.pop(name, None)
            return "up"
        # The grace is for a host that held the newest until a newer one reached another
        # host (a delivery on its way); one that comes back behind is out at once.
        start = now if name in self.current else now - self.grace
        since = self.behind_since.setdefault(name, start)
        if now - since < self.grace:
            return "up"
        return f"down #behind: sequence {health.sequence} < newest {newest}"


def watch(settings: Settings, context: ssl.SSLContext, verdicts: Verdicts,
          stop: threading.Event) -> None:
    try:
        _watch(settings, context, verdicts, stop)
    except BaseException:
        # Never a silent agent answering old words: the whole process ends, and its unit
        # (Restart=always) starts it again; HAProxy meanwhile hears nothing (no word).
        traceback.print_exc()
        os._exit(1)


def _watch(settings: Settings, context: ssl.SSLContext, verdicts: Verdicts,
           stop: threading.Event) -> None:
    with ThreadPoolExecutor(max_workers=len(settings.hosts)) as pool:
        while not stop.is_set():
            names = list(settings.hosts)
            answers = pool.map(lambda name: ask(settings.hosts[name], settings, context), names)
            before = dict(verdicts.words)
            words = verdicts.update(dict(zip(names, answers, strict=True)), time.monotonic())
            for name, word in words.items():
                if word != before.get(name, NO_WORD):
                    print(f"{name}: {word or '(no word: not answering)'}", file=sys.stderr,
                          flush=True)
            stop.wait(POLL)


class AgentServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], verdicts: Verdicts):
        self.verdicts = verdicts
        super().__init__(address, AgentHandler)


class AgentHandler(socketserver.StreamRequestHandler):
    """HAProxy sends the server's name and a newline (agent-send); one word goes back."""

    timeout = 2

    def handle(self) -> None:
        assert isinstance(self.server, AgentServer)
        try:
            name = self.rfile.readline(256).decode("ascii", "replace").strip()
        except OSError:
            return
        self.wfile.write((self.server.verdicts.words.get(name, NO_WORD) + "\n").encode())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: sequence_agent.py SETTINGS.ini", file=sys.stderr)
        return 2
    try:
        settings = read_settings(args[0])
        context = tls_context(settings)
    except SettingsError as error:
        print(f"sequence_agent: {error}", file=sys.stderr)
        return 2
    verdicts, stop = Verdicts(settings.grace), threading.Event()
    threading.Thread(target=watch, args=(settings, context, verdicts, stop), daemon=True).start()
    with AgentServer(settings.listen, verdicts) as server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
