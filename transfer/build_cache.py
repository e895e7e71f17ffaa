"""The builder's cache: the last table it built, so that the next build hashes only the
applications that changed since (intranet.publications.incremental).

What it holds is what the snapshot holds — the sorted entries (keyed lookup hashes, status
indexes, days) — and counts per programme; never a receipt number, a birth date or a name.
It lives in the builder's own folder of the spool (``built/cache/``, 0700, the file 0600:
the signer, which reads ``built/``, cannot enter it) and is trusted only as far as it proves
itself: a file of another format or version, cut short, with a group- or world-readable
mode, made with another lookup key, or altered by a single bit, is ignored — the build is
then a full one, never a wrong one. Its tag is an HMAC under a key derived from the lookup
key, so rotating the lookup key alone makes every earlier cache useless, as it must: each
hash in it was made with the old key.

Layout: ``MAGIC``, the header's length (4 bytes, big-endian), the header (canonical JSON),
the body, and the tag over everything before it (32 bytes).
"""

import hashlib
import hmac
import json
import logging
import os
import stat
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transfer import version
from transfer.envelope import canonical_json
from transfer.files import temporary_name
from transfer.lookup import LOOKUP_KEY_BYTES, lookup_key_id
from transfer.snapshot import ENTRY

log = logging.getLogger(__name__)

MAGIC = b"shinsei-builder-cache\n"
FORMAT = 1
FOLDER, FILE = "cache", "last-build.bin"
TAG_BYTES = 32
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class LastBuild:
    """One build, as the next one starts from it."""

    publication: int           # whose frozen rows the body was made from
    content_digest: str        # their digest (wording + rows), as approved
    parameters: str            # what else the entries depend on (``parameters``)
    body: bytes                # every entry in the widest format, sorted by lookup key
    skipped: int               # rows left out (birth date needed, none known)
    tally: dict[str, Any]      # per programme code: applications, paid, letters

    @property
    def entry_count(self) -> int:
        return len(self.body) // ENTRY.size


def parameters(wording: dict[str, Any]) -> str:
    """A digest of everything in the wording that decides an entry's bytes or the tally:
    each programme's code and whether its hash takes the birth date, and each status's
    place in the list (its index is in the entry), the dates it carries and whether it
    carries action details. Any change here makes the next build a full one."""
    return hashlib.sha256(canonical_json({
        "entry": ENTRY.format,
        "programmes": [[p["code"], bool(p["needs_birth_date"])] for p in wording["programmes"]],
        "statuses": [[s["code"], list(s["dates"]), bool(s.get("action_needed"))]
                     for s in wording["statuses"]],
    })).hexdigest()


def folder(built: Path) -> Path:
    return Path(built) / FOLDER


def _tag_key(lookup_secret: bytes) -> bytes:
    return hmac.new(lookup_secret, b"shinsei builder cache tag\x00", hashlib.sha256).digest()


def _identity(lookup_secret: bytes) -> dict[str, Any]:
    return {"format": FORMAT, "version": version.current(),
            "lookup_key_id": lookup_key_id(lookup_secret)}


def save(built: Path, lookup_secret: bytes, last: LastBuild) -> None:
    """Write the cache (0600 in a 0700 folder), replacing the earlier one whole."""
    directory = folder(built)
    directory.mkdir(mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    header = canonical_json({**_identity(lookup_secret), "publication": last.publication,
                             "content_digest": last.content_digest,
                             "parameters": last.parameters, "skipped": last.skipped,
                             "body_length": len(last.body), "tally": last.tally})
    head = MAGIC + _LENGTH.pack(len(header)) + header
    tag = hmac.new(_tag_key(lookup_secret), head, hashlib.sha256)
    tag.update(last.body)
    path = directory / FILE
    # Its own name per process: the preparation (shinsei-transfer-prepare.service) and a
    # build may keep a table at the same moment; each renames its own file whole.
    temporary = path.with_name(temporary_name(f"{path.name}.{os.getpid()}"))
    temporary.unlink(missing_ok=True)
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(head)
            handle.write(last.body)
            handle.write(tag.digest())
        # No fsync: after a power cut the old file or the new one is there, and either
        # proves itself or is ignored (a full build), never the wrong table.
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    _sweep_leftovers(directory, path.name)


# A table is written in under a few seconds: a temporary file this much older than the
# cache itself is no one's any more (a builder killed while writing), not one being written.
LEFTOVER_AGE = 3600


def _sweep_leftovers(directory: Path, name: str) -> None:
    """Remove other processes' temporary files that a killed builder left (about 21 MB each
    at a million applications): only those an hour older than the file just written."""
    try:
        written = (directory / name).stat().st_mtime
    except OSError:           # taken away meanwhile (``forget``): nothing to compare with
        return
    for leftover in directory.glob(temporary_name(f"{name}.*")):
        try:
            if leftover.lstat().st_mtime < written - LEFTOVER_AGE:
                leftover.unlink()
                log.info("removed %s, left by a builder that did not finish", leftover.name)
        except OSError:       # another process's: gone or renamed meanwhile
            continue


def forget(built: Path) -> None:
    """Remove the cache (e.g. after a build whose result it would not describe)."""
    (folder(built) / FILE).unlink(missing_ok=True)


def load(built: Path, lookup_secret: bytes) -> LastBuild | None:
    """The last build, or None (logged, with why) when there is none this builder can
    trust: the next build is then a full one."""
    path = folder(built) / FILE
    try:
        return _read(path, lookup_secret)
    except FileNotFoundError:
        log.info("no builder cache at %s: a full build", path)
    except _Untrusted as why:
        log.warning("builder cache %s ignored (%s): a full build", path, why)
    return None


class _Untrusted(Exception):
    pass


def _read(path: Path, lookup_secret: bytes) -> LastBuild:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise _Untrusted(f"cannot be opened: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _Untrusted("not a regular file")
        if status.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or status.st_uid != os.geteuid():
            raise _Untrusted(f"mode {stat.S_IMODE(status.st_mode):o}, owner {status.st_uid}: "
                             "not this user's alone")
        data = handle.read()
    return _parse(data, lookup_secret)


def _parse(data: bytes, lookup_secret: bytes) -> LastBuild:
    start = len(MAGIC) + _LENGTH.size
    if len(data) < start + TAG_BYTES or not data.startswith(MAGIC):
        raise _Untrusted("not a builder cache, or cut short")
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if start + length + TAG_BYTES > len(data):
        raise _Untrusted("cut short")
    tag = hmac.new(_tag_key(lookup_secret), memoryview(data)[:-TAG_BYTES], hashlib.sha256)
    if not hmac.compare_digest(tag.digest(), data[-TAG_BYTES:]):
        raise _Untrusted("its tag does not verify: altered, or made with another lookup key")
    try:
        header = json.loads(data[start:start + length])
    except ValueError:
        raise _Untrusted("its header is not JSON") from None
    identity = _identity(lookup_secret)
    for name, expected in identity.items():
        if header.get(name) != expected:
            raise _Untrusted(f"{name} {header.get(name)!r}, this builder {expected!r}")
    body = data[start + length:-TAG_BYTES]
    if len(body) != header.get("body_length") or len(body) % ENTRY.size:
        raise _Untrusted("its body is not whole entries of its stated length")
    return LastBuild(header["publication"], header["content_digest"], header["parameters"],
                     body, header["skipped"], header["tally"])


class _Keys:
    """The lookup keys of a sorted body, as a sequence ``bisect`` can search; ``place``
    first narrows the search with every ``STRIDE``-th key, read once into a list (searched
    in C), so a search reads a few keys of the body instead of twenty."""

    STRIDE = 32

    def __init__(self, body: bytes):
        self.body, self.size = body, ENTRY.size
        self.count = len(body) // self.size
        step = self.size * self.STRIDE
        self.sparse = [body[at:at + LOOKUP_KEY_BYTES] for at in range(0, len(body), step)]

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> bytes:
        start = index * self.size
        return self.body[start:start + LOOKUP_KEY_BYTES]

    def place(self, key: bytes) -> int:
        """Where ``key`` is, or would go (``bisect_left`` over every key)."""
        block = max(bisect_right(self.sparse, key) - 1, 0)
        return bisect_left(self, key, block * self.STRIDE,
                           min(self.count, (block + 1) * self.STRIDE))


class Inconsistent(Exception):
    """The edits do not fit the body (a key to remove that is not there, one to add that
    already is): the body was not made from the rows the edits were computed against."""


def edit_body(body: bytes, removed: Iterable[bytes], added: Iterable[bytes]) -> bytes:
    """``body`` without the entries whose keys are ``removed`` and with the packed entries
    ``added``, still sorted by key: the same bytes as sorting the edited set afresh.

    Only the edited places are searched; the unchanged runs between them are copied as
    slices."""
    keys, size = _Keys(body), ENTRY.size
    edits: list[tuple[int, int, bytes]] = []   # (position, 0 remove | 1 insert, entry)
    gone: dict[bytes, int] = {}
    for key in removed:
        position = keys.place(key)
        if position == len(keys) or keys[position] != key:
            raise Inconsistent("an entry to remove is not in the cached body")
        if key in gone:
            raise Inconsistent("the same entry removed twice")
        gone[key] = position
        edits.append((position, 0, key))
    for entry in added:
        key = entry[:LOOKUP_KEY_BYTES]
        position = gone.get(key, -1)       # a changed status: the key stays where it was
        if position < 0:
            position = keys.place(key)
            if position < len(keys) and keys[position] == key:
                raise Inconsistent("an entry to add is already in the cached body")
        edits.append((position, 1, entry))
    # At one position the old entry (if removed) goes first; inserted ones in key order.
    edits.sort()
    view = memoryview(body)      # runs are copied once, by the join
    pieces: list[bytes | memoryview] = []
    copied = 0
    for position, kind, entry in edits:
        if position > copied:
            pieces.append(view[copied * size:position * size])
            copied = position
        if kind == 0:
            copied = position + 1        # the old entry is left out
        else:
            pieces.append(entry)
    pieces.append(view[copied * size:])
    edited = b"".join(pieces)
    _check_sorted_around(edited, edits)
    return edited


def _check_sorted_around(body: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    """Two entries added with one key (two rows hashing alike) would break the order the
    public host checks: refused, as a full build's ``make_body`` would reveal it too."""
    added = [entry[:LOOKUP_KEY_BYTES] for _, kind, entry in edits if kind == 1]
    if len(set(added)) != len(added):
        raise Inconsistent("two entries added with the same lookup key")
