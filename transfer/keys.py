"""Ed25519 signing keys and the lookup HMAC key: generate, store, load.

Private files must be readable by their owner only: the signing key is the one thing
that makes the public host believe a snapshot, so a file others can read is refused.

Where a setting names keys, each entry is a key file or a folder of them (``key_files``): a
key rotation places a second file beside the first, and later removes one, without editing
any configuration.
"""

import base64
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from transfer.errors import KeyFileError
from transfer.files import read_private


def key_id(public_key: Ed25519PublicKey) -> str:
    """A hint naming the key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def key_files(entries: Iterable[str | Path], patterns: tuple[str, ...]) -> list[Path]:
    """Each entry is a key file, or a folder whose files matching ``patterns`` are all keys
    (sorted by name); the caller says what it means when there are none."""
    files: list[Path] = []
    for entry in map(Path, entries):
        files += sorted({f for pattern in patterns for f in entry.glob(pattern)}) \
            if entry.is_dir() else [entry]
    return files


def generate_signing_key(private_path: Path, public_path: Path,
                         owner: tuple[int, int] | None = None) -> SigningKey:
    """A new key pair; the private file 0600 (given to ``owner``, (uid, gid), before any
    byte is written), the public one 0644."""
    key = SigningKey(Ed25519PrivateKey.generate())
    pem = key.private_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    _write_private(private_path, pem, owner)
    public_path.write_bytes(key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    public_path.chmod(0o644)
    return key


def load_signing_key(path: Path) -> SigningKey:
    data = read_private(path, "key file", KeyFileError)
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyFileError(f"{path}: not a PEM private key ({error})") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return SigningKey(private_key)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        public_key = serialization.load_pem_public_key(Path(path).read_bytes())
    except FileNotFoundError:
        raise KeyFileError(f"{path}: public key file not found") from None
    except (ValueError, UnsupportedAlgorithm) as error:
        raise KeyFileError(f"{path}: not a PEM public key ({error})") from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return public_key


def generate_lookup_key(path: Path, owner: tuple[int, int] | None = None) -> bytes:
    secret = secrets.token_bytes(32)
    _write_private(path, base64.b64encode(secret) + b"\n", owner)
    return secret


def load_lookup_key(path: Path) -> bytes:
    try:
        secret = base64.b64decode(read_private(path, "key file", KeyFileError).strip(), validate=True)
    except ValueError:
        raise KeyFileError(f"{path}: lookup key is not base64") from None
    if len(secret) < 32:
        raise KeyFileError(f"{path}: lookup key shorter than 32 bytes")
    return secret


def _write_private(path: Path, data: bytes, owner: tuple[int, int] | None = None) -> None:
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise KeyFileError(f"{path}: exists already; refusing to overwrite a key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)      # whatever the umask
        if owner is not None:
            os.fchown(handle.fileno(), *owner)
        handle.write(data)
