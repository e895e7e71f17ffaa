"""Pushing a snapshot to a public host's upload-only SFTP account (paramiko).

The host key is pinned in a dedicated known_hosts file and an unknown or changed key is
refused before anything is sent: there is no policy here that adds or merely warns about
a key. Every network step has a timeout, and each attempt a deadline after which the
connection is closed whatever the host is doing; the file is written under a temporary
dot-name, its size checked on the server, then renamed into place with posix-rename.

The host at the other end may be taken over, so what it sends is held to what a real
upload account answers: an SSH packet or an SFTP reply bigger than a few KiB ends the
connection (a hostile length can no longer make this process wait for, or hold, gigabytes),
and a channel it tries to open towards this side is refused (paramiko's client accepts none).
Nothing is listed; one file is read: after the snapshot is in place, the host's daily usage
counts (``usage_file``, in a folder the upload account may read and not write), in reads of
8 KiB, refused past ``transfer.usage_counts.MAX_SIZE`` — its bytes are handed on unread, for
the recorder to check as hostile input. A failed fetch never undoes the delivery.

Speed (docs/performance.md, "Transfer"): the upload is CPU-bound in Python on the sending
side, so the session prefers AES-GCM (one pass, no separate HMAC over every 32 KB packet),
writes are pipelined (many requests outstanding, replies collected at the end), and Nagle's
algorithm is off so no small packet waits for an acknowledgement.
"""

import base64
import contextlib
import hashlib
import io
import posixpath
import socket
import struct
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import paramiko

from transfer import usage_counts
from transfer.files import temporary_name
from transfer.transports import Delivery, with_retries


class UnknownHostKey(paramiko.SSHException):
    """The server's key is not in the pinned known_hosts file."""

    def __init__(self, hostname: str, key: paramiko.PKey) -> None:
        self.fingerprint = fingerprint(key)
        super().__init__(f"host key of {hostname} ({self.fingerprint}) is not pinned")


class PinnedHostKeysOnly(paramiko.RejectPolicy):
    """RejectPolicy, with the offered key's fingerprint kept for the audit record."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> NoReturn:
        raise UnknownHostKey(hostname, key)


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class PushTransport(paramiko.Transport):
    """A Transport that offers AES-GCM first and nothing weaker than AES-CTR.

    Both sides of this link are ours (OpenSSH on the public host has had AES-GCM since 6.2);
    CTR stays as a fallback, CBC and 3DES are no longer offered.
    """

    _preferred_ciphers = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                          "aes128-ctr", "aes256-ctr")


# What a real upload account ever sends back: status replies, a handle, one file's attributes
# (bytes). A bigger SSH packet (RFC 4253 asks for 35,000 at most) or SFTP reply is hostile.
MAX_SSH_PACKET = 64 * 1024
MAX_SFTP_REPLY = 16 * 1024
USAGE_READ = 8 * 1024   # one read of the usage file: its reply stays under MAX_SFTP_REPLY
USAGE_FILE = "/usage/usage-counts.json"


class HostileAnswer(paramiko.SSHException):
    """The host sent something no upload account sends; the connection was ended."""


class CappedTransport(PushTransport):
    """Refuses an incoming SSH packet whose length is over MAX_SSH_PACKET before reading it
    (paramiko would otherwise wait for, and buffer, whatever length the peer declares)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hostile = ""
        read_all = self.packetizer.read_all

        def capped(n: int, check_rekey: bool = False) -> bytes:
            if n > MAX_SSH_PACKET:
                self.hostile = (f"the host declared an SSH packet of {n} bytes "
                                f"(at most {MAX_SSH_PACKET} are accepted)")
                raise HostileAnswer(self.hostile)
            return read_all(n, check_rekey)

        self.packetizer.read_all = capped  # type: ignore[method-assign]


class CappedSFTPClient(paramiko.SFTPClient):
    """An SFTP client that refuses a reply longer than MAX_SFTP_REPLY before reading it."""

    def _read_packet(self) -> tuple[int, bytes]:
        read_all = self._read_all  # type: ignore[attr-defined]  # BaseSFTP's, not in the stubs
        size = struct.unpack(">I", read_all(4))[0]
        if size > MAX_SFTP_REPLY:
            raise HostileAnswer(f"the host answered with an SFTP packet of {size} bytes "
                                f"(at most {MAX_SFTP_REPLY} are accepted)")
        data = read_all(size)
        return (data[0], data[1:]) if size else (0, b"")


def push_transport(sock: Any, /, *, gss_kex: bool = False, gss_deleg_creds: bool = False,
                   disabled_algorithms: Mapping[str, Iterable[str]] | None = None
                   ) -> paramiko.Transport:
    """SSHClient.connect's transport factory (paramiko 5 no longer passes the GSS-API flags;
    its stubs still name them, and GSS-API is never used here)."""
    if isinstance(sock, socket.socket):  # connect() hands over the TCP socket it opened
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return CappedTransport(sock, disabled_algorithms=disabled_algorithms)


# Retrying cannot fix these, and must not repeat the alarm.
PERMANENT = (paramiko.BadHostKeyException, UnknownHostKey, paramiko.AuthenticationException,
             HostileAnswer)


class SftpDestination:
    def __init__(self, host: str, port: int, username: str, key_file: Path,
                 known_hosts: Path, remote_dir: str = "/inbox", timeout: float = 15.0,
                 retries: int = 2, backoff: float = 1.0, deadline: float = 600.0,
                 usage_file: str = USAGE_FILE) -> None:
        self.host, self.port, self.username = host, port, username
        self.usage_file = usage_file   # empty: nothing is fetched
        self.key_file, self.known_hosts = Path(key_file), Path(known_hosts)
        self.remote_dir, self.timeout, self.deadline = remote_dir, timeout, deadline
        self.retries, self.backoff = retries, backoff
        self.name = f"sftp://{username}@{host}:{port}{remote_dir}"
        self.seen_fingerprint = ""
        self.usage: bytes | None = None
        self.usage_reason = ""

    def deliver(self, filename: str, data: bytes) -> Delivery:
        self.seen_fingerprint, self.usage, self.usage_reason = "", None, ""
        try:
            _, attempts = with_retries(lambda: self._push(filename, data), self.retries,
                                       self.backoff, permanent=PERMANENT)
        except paramiko.BadHostKeyException as error:
            return self._failed(f"host key changed: offered {fingerprint(error.key)}, pinned "
                                f"{fingerprint(error.expected_key)}", fingerprint(error.key))
        except UnknownHostKey as error:
            return self._failed(str(error), error.fingerprint)
        except paramiko.AuthenticationException as error:
            return self._failed(f"authentication refused: {error}")
        except HostileAnswer as error:
            return self._failed(str(error))
        except Exception as error:
            # Whatever a hostile host makes the SSH or SFTP layer raise, this destination
            # has failed and the others are still tried; the reason is recorded.
            return self._failed(f"{type(error).__name__}: {error}", attempts=self.retries + 1)
        return Delivery(self.name, True, host_key_fingerprint=self.seen_fingerprint,
                        attempts=attempts, usage=self.usage, usage_reason=self.usage_reason)

    def _failed(self, reason: str, seen: str = "", attempts: int = 1) -> Delivery:
        return Delivery(self.name, False, reason, seen or self.seen_fingerprint, attempts)

    def _push(self, filename: str, data: bytes) -> None:
        client = paramiko.SSHClient()
        client.load_host_keys(str(self.known_hosts))  # the pinned file only, never ~/.ssh
        client.set_missing_host_key_policy(PinnedHostKeysOnly())
        # However the host stalls or trickles, the attempt ends at the deadline.
        expired = threading.Event()

        def give_up() -> None:
            expired.set()
            client.close()

        watchdog = threading.Timer(self.deadline, give_up)
        watchdog.daemon = True
        watchdog.start()
        try:
            self._upload(client, filename, data)
        except Exception as error:
            transport = client.get_transport()
            if isinstance(transport, CappedTransport) and transport.hostile:
                raise HostileAnswer(transport.hostile) from None
            if expired.is_set():
                raise TimeoutError(f"no complete upload within the {self.deadline:g} s "
                                   f"deadline ({type(error).__name__})") from None
            raise
        finally:
            watchdog.cancel()
            client.close()

    def _upload(self, client: paramiko.SSHClient, filename: str, data: bytes) -> None:
        client.connect(self.host, self.port, username=self.username,
                       key_filename=str(self.key_file), look_for_keys=False,
                       allow_agent=False, timeout=self.timeout,
                       banner_timeout=self.timeout, auth_timeout=self.timeout,
                       channel_timeout=self.timeout, transport_factory=push_transport)
        transport = client.get_transport()
        if transport is None:  # connect() returned without a session
            raise paramiko.SSHException("no SSH session after connecting")
        self.seen_fingerprint = fingerprint(transport.get_remote_server_key())
        channel = transport.open_session(timeout=self.timeout)
        channel.settimeout(self.timeout)
        channel.invoke_subsystem("sftp")
        sftp = CappedSFTPClient(channel)
        temporary = posixpath.join(self.remote_dir, temporary_name(filename))
        with contextlib.suppress(OSError):
            sftp.remove(temporary)   # an interrupted earlier attempt's; nothing else is touched
        # putfo pipelines its writes (32 KB requests, replies read at close), and with
        # confirm=True stats the result: the server's size must equal what was sent.
        sftp.putfo(io.BytesIO(data), temporary, file_size=len(data), confirm=True)
        sftp.posix_rename(temporary, posixpath.join(self.remote_dir, filename))
        if self.usage_file:
            self.usage, self.usage_reason = fetch_usage(sftp, self.usage_file)
        sftp.close()


def fetch_usage(sftp: paramiko.SFTPClient, path: str) -> tuple[bytes | None, str]:
    """The usage file's bytes, at most ``usage_counts.MAX_SIZE`` of them, or None and why.
    Whatever goes wrong here (no file on an older host, a hostile answer) is a reason, not
    an exception: the snapshot was already delivered."""
    cap = usage_counts.MAX_SIZE
    try:
        size = sftp.stat(path).st_size
        if size is None or size > cap:
            return None, f"usage counts not fetched: {path} is {size} bytes (at most {cap})"
        chunks, total = [], 0
        with sftp.open(path, "rb") as handle:
            while total <= cap:
                chunk = handle.read(USAGE_READ)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        if total > cap:
            return None, f"usage counts not fetched: {path} grew past {cap} bytes while read"
        return b"".join(chunks), ""
    except Exception as error:
        return None, f"usage counts not fetched: {type(error).__name__}: {error}"[:500]
