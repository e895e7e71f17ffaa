"""A public host that has been taken over: paramiko's server side, on loopback, behaving as
an attacker who controls the internet-facing machine would.

It accepts the pusher's client key, then — by ``behaviour`` — answers honestly (and records
every SFTP request), lies about a write, stalls, sends oversized or malformed packets, or
offers files back and tries to open channels towards the pusher. Everything the client
sends it is recorded (``events``, ``written``), so a test can show what left and what did not.
"""

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK

HONEST, LYING, STALL_SFTP, STALL_BANNER, TRICKLE, HUGE_SFTP, GARBAGE_SFTP, HUGE_SSH, \
    OFFERS_FILES = ("honest", "lying", "stall-sftp", "stall-banner", "trickle", "huge-sftp",
                    "garbage-sftp", "huge-ssh", "offers-files")


@dataclass
class Record:
    events: list[str] = field(default_factory=list)
    written: dict[str, bytearray] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)      # what the inbox holds
    refused_back_channels: list[str] = field(default_factory=list)


class HostileHost:
    def __init__(self, root: Path, client_key: paramiko.PKey, behaviour: str = HONEST):
        self.root, self.behaviour, self.client_key = root, behaviour, client_key
        self.host_key = paramiko.Ed25519Key.from_private_key_file(str(_new_key(root / "host")))
        self.record = Record()
        self.stop_event = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.transports: list[paramiko.Transport] = []
        self.silent: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def known_hosts(self, path: Path, key: paramiko.PKey | None = None) -> Path:
        key = key or self.host_key
        path.write_text(f"[127.0.0.1]:{self.port} {key.get_name()} {key.get_base64()}\n")
        return path

    def close(self) -> None:
        self.stop_event.set()
        self.listener.close()
        for transport in self.transports:
            transport.close()
        for conn in self.silent:
            conn.close()
        self.thread.join(timeout=5)

    def _serve(self) -> None:
        while not self.stop_event.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.record.events.append("tcp-accepted")
            if self.behaviour == STALL_BANNER:   # a TCP connection, and never a byte
                self.silent.append(conn)
                continue
            transport = paramiko.Transport(conn)
            self.transports.append(transport)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", _handler_for(self))
            try:
                transport.start_server(server=_Interface(self))
            except (paramiko.SSHException, EOFError, OSError):
                self.record.events.append("kex-failed")


def _new_key(path: Path) -> Path:
    # paramiko cannot write Ed25519 keys; cryptography writes OpenSSH's format.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    return path


def new_client_key(path: Path) -> tuple[Path, paramiko.PKey]:
    _new_key(path)
    path.chmod(0o600)
    return path, paramiko.Ed25519Key.from_private_key_file(str(path))


class _Interface(paramiko.ServerInterface):
    def __init__(self, host: HostileHost):
        self.host = host

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        self.host.record.events.append(f"auth:{username}")
        if key.asbytes() == self.host.client_key.asbytes():
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        self.host.record.events.append(f"channel:{kind}")
        return paramiko.OPEN_SUCCEEDED if kind == "session" else \
            paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_subsystem_request(self, channel, name):
        self.host.record.events.append(f"subsystem:{name}")
        return super().check_channel_subsystem_request(channel, name)

    def check_channel_exec_request(self, channel, command):
        self.host.record.events.append(f"exec:{command!r}")
        return False


def _handler_for(host: HostileHost):
    if host.behaviour in (HONEST, LYING, OFFERS_FILES):
        def sftp_server(channel, name, server, *args, **kwargs):
            return SFTPServer(channel, name, server, _Files, host, *args, **kwargs)
        return sftp_server

    class Raw(paramiko.SubsystemHandler):
        """Speaks no SFTP at all: stalls, trickles, or sends what no server sends."""

        def start_subsystem(self, name, transport, channel):
            record = host.record.events
            record.append(f"raw:{host.behaviour}")
            time.sleep(0.3)   # let paramiko send the subsystem's success reply first
            if host.behaviour == HUGE_SFTP:          # a 16 MB reply is announced
                channel.sendall(struct.pack(">I", 0x00FFFFF0) + b"\x02" + b"A" * 64)
            elif host.behaviour == GARBAGE_SFTP:     # not an SFTP packet at all
                channel.sendall(b"\xff\xfe\xfd\xfcHTTP/1.1 200 OK\r\n\r\n")
            elif host.behaviour == HUGE_SSH:         # an SSH packet of 2 GB announced
                transport.sock.sendall(struct.pack(">I", 0x7FFFFFF0) + b"\x00" * 64)
            elif host.behaviour == TRICKLE:          # a byte now and then, never an answer
                while not host.stop_event.is_set() and not channel.closed:
                    channel.sendall(b"\x00")
                    time.sleep(0.5)
            host.stop_event.wait(120)                # then nothing, for as long as it takes
    return Raw


class _Files(SFTPServerInterface):
    """An in-memory inbox that records every request the client makes."""

    def __init__(self, server, host: HostileHost, *args, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.host = host
        if host.behaviour == OFFERS_FILES:
            host.record.files["/inbox/take-me.bin"] = b"bait " * 100
            threading.Thread(target=self._open_channels_back, daemon=True).start()

    def _open_channels_back(self):
        transport = self.host.transports[-1]
        for kind, opener in (("session", lambda: transport.open_session(timeout=2)),
                             ("x11", lambda: transport.open_x11_channel(("127.0.0.1", 6000))),
                             ("forwarded-tcpip", lambda: transport.open_forwarded_tcpip_channel(
                                 ("127.0.0.1", 5432), ("127.0.0.1", 5432)))):
            try:
                opener()
            except (paramiko.ChannelException, paramiko.SSHException, EOFError):
                self.host.record.refused_back_channels.append(kind)

    def _log(self, what):
        self.host.record.events.append(what)

    def open(self, path, flags, attr):
        self._log(f"open:{path}:{flags:#x}")
        handle = _Handle(flags)
        handle.host, handle.path = self.host, path
        if flags & 0x3 == 0:   # O_RDONLY: a read, which the pusher must never make
            handle.data = self.host.record.files.get(path, b"")
        else:   # created empty, as a real server does; the liar never fills it
            self.host.record.written.setdefault(path, bytearray())
            self.host.record.files.setdefault(path, b"")
        return handle

    def stat(self, path):
        self._log(f"stat:{path}")
        data = self.host.record.files.get(path)
        if data is None:
            return SFTP_NO_SUCH_FILE
        attributes = SFTPAttributes()
        attributes.st_size = len(data)
        return attributes

    lstat = stat

    def remove(self, path):
        self._log(f"remove:{path}")
        return SFTP_OK if self.host.record.files.pop(path, None) is not None else SFTP_NO_SUCH_FILE

    def posix_rename(self, old, new):
        self._log(f"rename:{old}->{new}")
        if old not in self.host.record.files:
            return SFTP_FAILURE
        self.host.record.files[new] = self.host.record.files.pop(old)
        return SFTP_OK

    rename = posix_rename

    def list_folder(self, path):
        self._log(f"list:{path}")
        attributes = SFTPAttributes()
        attributes.filename, attributes.st_size = "take-me.bin", 500
        return [attributes]

    def mkdir(self, path, attr):
        self._log(f"mkdir:{path}")
        return SFTP_FAILURE


class _Handle(SFTPHandle):
    data = b""

    def write(self, offset, data):
        written = self.host.record.written[self.path]
        written[offset:offset + len(data)] = data
        if self.host.behaviour != LYING:     # the liar answers OK and keeps nothing
            self.host.record.files[self.path] = bytes(written)
        return SFTP_OK

    def read(self, offset, length):
        self.host.record.events.append(f"read:{self.path}")
        return self.data[offset:offset + length]

    def close(self):
        self.host.record.events.append(f"close:{self.path}")
        if self.host.behaviour != LYING and self.path in self.host.record.written:
            self.host.record.files.setdefault(self.path, bytes(self.host.record.written[self.path]))
        super().close()
