"""Signed checkpoints of the audit chain: the witness an insider with the database can't edit.

The signer (its own OS user, its own Ed25519 key, no database) signs the chain's head — how
many records, the last one's hash, when — at every run. Each signed checkpoint is appended
to a file only that user can write (``audit.checkpoint_file``), goes into the next
snapshot's header (so every public host's activation log keeps a copy), and is noted in the
chain itself for the security officer's screen; ``intranet.audit`` checks the chain in the
database against them, and what that catches: a head moved back (truncation), a
recomputed chain or records inserted before a checkpoint (the record at the checkpoint no
longer has the signed hash), records appended after a checkpoint but dated before it
(back-dated forgeries), and a retention anchor that is no signed checkpoint (records
deleted behind a fake anchor).

A checkpoint is signed in the one envelope of ``transfer.envelope`` over its canonical
JSON. Checkpoints written before that envelope was shared (a bare length-prefixed one, no
domain) still verify: a checkpoint file is kept for years and is never rewritten.
"""

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from transfer.envelope import canonical_json, pae
from transfer.keys import SigningKey, key_files, load_public_key

PAYLOAD_TYPE = "application/vnd.shinsei.audit-checkpoint.v1+json"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(at: datetime) -> str:
    """The audit's time text (records and checkpoints): UTC with microseconds always
    present, so the text is the same after a round trip through either database."""
    # isoformat is strftime's text for a naive time, at a third of the cost.
    if at.tzinfo is None:
        return at.isoformat(timespec="microseconds") + "Z"
    return at.strftime(TIME_FORMAT)


@dataclass(frozen=True)
class Checkpoint:
    count: int          # the chain's head seq: records 1..count existed when signed
    head_hash: str
    at: datetime        # naive UTC, taken under the head lock
    key_id: str = ""
    signature: str = ""  # base64 Ed25519 over pae(PAYLOAD_TYPE, body())

    def body(self) -> bytes:
        return canonical_json({"count": self.count, "head_hash": self.head_hash,
                               "at": format_time(self.at)})

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "head_hash": self.head_hash, "at": format_time(self.at),
                "key_id": self.key_id, "signature": self.signature}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> "Checkpoint":
        return cls(int(value["count"]), str(value["head_hash"]),
                   datetime.strptime(value["at"], TIME_FORMAT),
                   str(value.get("key_id", "")), str(value.get("signature", "")))


class CheckpointError(ValueError):
    """A checkpoint file or entry that cannot be trusted; the message says which and why."""


def _first_envelope(body: bytes) -> bytes:
    # What checkpoints were signed over before they shared the snapshot's envelope: read
    # only, so the files written then keep verifying. Its bytes start with a digit, the
    # shared envelope's with its domain, so neither can pass for the other.
    kind = PAYLOAD_TYPE.encode("utf-8")
    return b"%d %s %d " % (len(kind), kind, len(body)) + body


def sign(count: int, head_hash: str, at: datetime, signing_key: SigningKey) -> Checkpoint:
    unsigned = Checkpoint(count, head_hash, at)
    signature = base64.b64encode(signing_key.sign(pae(PAYLOAD_TYPE, unsigned.body())))
    return Checkpoint(count, head_hash, at, signing_key.key_id, signature.decode("ascii"))


def is_signed_by(checkpoint: Checkpoint, public_keys: Iterable[Ed25519PublicKey]) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        return False
    body = checkpoint.body()
    messages = (pae(PAYLOAD_TYPE, body), _first_envelope(body))
    for public_key in public_keys:
        for message in messages:
            try:
                public_key.verify(signature, message)
                return True
            except InvalidSignature:
                continue
    return False


def append_to_file(path: Path, checkpoint: Checkpoint) -> None:
    """One JSON line per checkpoint; the file is the signer's alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(checkpoint.as_dict(), sort_keys=True) + "\n"
    # Readable by all (the web app and `audit verify` compare against it), writable by
    # the signer alone: the directory and file belong to that user.
    with open(path, "a", encoding="utf-8") as file:
        file.write(line)


# Lines whose signature has been checked, by trusted key set and exact text. The screens
# read the file on every view, and it grows by a line per publication and per day; an
# Ed25519 check per line per view would grow with it. A line edited in any way is new
# text, so it is checked afresh; only lines that verified are kept.
_CHECKED: dict[tuple[bytes, str], "Checkpoint"] = {}
_CHECKED_MAX = 100_000


def _key_set(public_keys: Iterable[Ed25519PublicKey]) -> bytes:
    return b"".join(sorted(key.public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
                           for key in public_keys))


def read_file(path: Path, public_keys: Sequence[Ed25519PublicKey]) -> list[Checkpoint]:
    """Every checkpoint in the file, each with a valid signature, in count order."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint file not found") from None
    checkpoints = []
    keys = _key_set(public_keys)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        known = _CHECKED.get((keys, line))
        if known is not None:
            checkpoints.append(known)
            continue
        try:
            checkpoint = Checkpoint.from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError) as error:
            raise CheckpointError(f"{path}:{number}: not a checkpoint ({error})") from None
        if not is_signed_by(checkpoint, public_keys):
            raise CheckpointError(f"{path}:{number}: signature does not verify "
                                  "with any trusted transfer key")
        if len(_CHECKED) < _CHECKED_MAX:
            _CHECKED[keys, line] = checkpoint
        checkpoints.append(checkpoint)
    return sorted(checkpoints, key=lambda c: (c.count, c.at))


def trusted_keys(spec: str) -> list[Ed25519PublicKey]:
    """Public keys from ``audit.checkpoint_keys``: PEM files or directories of them."""
    return [load_public_key(pem) for pem in key_files(spec.split(), ("*.pub", "*.pem"))]


def from_settings(settings: Mapping[str, Any]) -> list[Checkpoint] | None:
    """The verified checkpoints the settings name (``audit.checkpoint_file``, checked with
    ``audit.checkpoint_keys``), or None when none are configured."""
    path = settings.get("audit.checkpoint_file")
    if not path:
        return None
    keys = trusted_keys(settings.get("audit.checkpoint_keys", ""))
    if not keys:
        raise CheckpointError("audit.checkpoint_keys names no public key to check "
                              f"{path} with")
    return read_file(Path(path), keys)
