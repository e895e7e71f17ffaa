"""Pushing a snapshot to a public host's upload-only SFTP account (paramiko).

The host key is pinned in a dedicated known_hosts file and an unknown or changed key is
refused before anything is sent: there is no policy here that adds or merely warns about
a key. Every network step has a timeout; the file is written under a temporary dot-name,
its size checked on the server, then renamed into place with posix-rename.
"""

import base64
import hashlib
import io
import posixpath
from pathlib import Path
from typing import NoReturn

import paramiko

from transfer.transports import Delivery, temporary_name, with_retries


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


# Retrying cannot fix these, and must not repeat the alarm.
PERMANENT = (paramiko.BadHostKeyException, UnknownHostKey, paramiko.AuthenticationException)


class SftpDestination:
    def __init__(self, host: str, port: int, username: str, key_file: Path,
                 known_hosts: Path, remote_dir: str = "/inbox", timeout: float = 15.0,
                 retries: int = 2, backoff: float = 1.0) -> None:
        self.host, self.port, self.username = host, port, username
        self.key_file, self.known_hosts = Path(key_file), Path(known_hosts)
        self.remote_dir, self.timeout = remote_dir, timeout
        self.retries, self.backoff = retries, backoff
        self.name = f"sftp://{username}@{host}:{port}{remote_dir}"
        self.seen_fingerprint = ""

    def deliver(self, filename: str, data: bytes) -> Delivery:
        self.seen_fingerprint = ""
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
        except (OSError, EOFError, paramiko.SSHException) as error:
            return self._failed(f"{type(error).__name__}: {error}", attempts=self.retries + 1)
        return Delivery(self.name, True, host_key_fingerprint=self.seen_fingerprint,
                        attempts=attempts)

    def _failed(self, reason: str, seen: str = "", attempts: int = 1) -> Delivery:
        return Delivery(self.name, False, reason, seen or self.seen_fingerprint, attempts)

    def _push(self, filename: str, data: bytes) -> None:
        client = paramiko.SSHClient()
        client.load_host_keys(str(self.known_hosts))  # the pinned file only, never ~/.ssh
        client.set_missing_host_key_policy(PinnedHostKeysOnly())
        try:
            client.connect(self.host, self.port, username=self.username,
                           key_filename=str(self.key_file), look_for_keys=False,
                           allow_agent=False, timeout=self.timeout,
                           banner_timeout=self.timeout, auth_timeout=self.timeout,
                           channel_timeout=self.timeout)
            transport, sftp = client.get_transport(), client.open_sftp()
            channel = sftp.get_channel()
            if transport is None or channel is None:  # connect() returned without a session
                raise paramiko.SSHException("no SSH session after connecting")
            self.seen_fingerprint = fingerprint(transport.get_remote_server_key())
            channel.settimeout(self.timeout)
            self._clean_leftovers(sftp)
            temporary = posixpath.join(self.remote_dir, temporary_name(filename))
            # putfo pipelines its writes, and with confirm=True stats the result: the
            # server's size must equal what was sent.
            sftp.putfo(io.BytesIO(data), temporary, file_size=len(data), confirm=True)
            sftp.posix_rename(temporary, posixpath.join(self.remote_dir, filename))
            sftp.close()
        finally:
            client.close()

    def _clean_leftovers(self, sftp: paramiko.SFTPClient) -> None:
        for name in sftp.listdir(self.remote_dir):
            if name.startswith(".") and name.endswith(".part"):
                sftp.remove(posixpath.join(self.remote_dir, name))
