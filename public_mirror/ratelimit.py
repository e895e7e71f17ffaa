"""Per-address rate limiting: enough for a family checking a few numbers, not for enumeration.

What is counted is a failed lookup (a number not found, or a wrong birth date — the same
answer): guessing numbers fails nearly every time, while a city hall counter or a support
NPO behind one address mostly finds what it looks for. ``check`` asks without counting,
``fail`` counts one failure; ``allow`` does both (the reference behaviour).

A sliding window per client address, shared by every worker process of the host through
one file, so the configured limit is the effective one however many
processes serve the port. Addresses are stored only as a keyed hash, and only as long as
the window needs them. If the shared file cannot be used (cut, replaced by something that
is not a file, a full disk), each worker falls back to its own window in memory (logged
once), rather than refusing every resident or falling over.
"""

import errno
import fcntl
import hashlib
import hmac
import ipaddress
import logging
import os
import stat
import struct
import threading
import time
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)


class RateLimiter:
    """One process's window in memory: the fallback, and the reference for the shared one."""

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def check(self, address: str) -> tuple[bool, int]:
        return self.allow(address, count=False)

    def fail(self, address: str) -> None:
        self.allow(address)

    def allow(self, address: str, count: bool = True) -> tuple[bool, int]:
        """(allowed?, seconds until the next lookup would be allowed)."""
        now = self.clock()
        address = limited_as(address)
        with self._lock:
            self._sweep(now)
            hits = self._hits.setdefault(address, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False, max(1, int(hits[0] + self.window - now) + 1)
            if count:
                hits.append(now)
            return True, 0

    def _sweep(self, now):
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        for address in [a for a, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[address]


_SLOT = struct.Struct("<16sdII")   # client key, window start, hits in it, hits in the one before
_SWEPT = struct.Struct("<d")       # in the file's first record: when it was last swept
_EMPTY = bytes(16)
_PROBES = 8
KEYS_KEPT = 4096   # addresses whose slot key a process keeps (then starts afresh)
RELOOK = 0.5   # seconds between looks at what lies under the file's name (one stat)


# This process's id, kept current across forks: ``os.getpid`` is a system call, and the
# descriptor's owner is asked on every request.
_this_process = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _this_process.__setitem__(0, os.getpid()))


class TableUnusable(OSError):
    """The shared file cannot hold the limit now (replaced by something else, cut while
    read, no room to restore it): this request is limited by the process alone."""


class SharedRateLimiter:
    """The limit every worker process of the host shares, in one file.

    Each client has a slot (open addressing on a keyed hash of its address) holding its
    hits in the current fixed window and in the one before; the estimate
    ``before × (share of the current window still to run) + current`` is the sliding
    window's count (the approximation large CDNs use), without a list of timestamps.
    A slot is read and written under ``flock`` on the file (processes) and a lock
    (threads): a few microseconds, where SQLite took ~80 µs a lookup.

    The file is read and written with ``pread``/``pwrite``, never memory-mapped: a mapped
    file that someone empties (``: > rate-limit.table``), or whose pages cannot be given
    blocks on a full disk, kills the process with SIGBUS at the next touch — every worker
    at once, with no log line. Here a cut file is a short read, a full disk an ``ENOSPC``:
    both are seen, logged, and this process limits on its own until the file is usable. The
    file's blocks are reserved (``posix_fallocate``) when it is made or restored, so a full
    disk shows itself then, not in the middle of a lookup. A file replaced under its name
    (a new inode) is reopened within ``RELOOK``, so every process keeps sharing the same one.
    """

    def __init__(self, path, limit: int, window: float, *, secret: bytes, clock=time.time,
                 slots: int = 65536, looks_clock=time.monotonic):
        """``clock``: the windows' time, shared by every process (POSIX seconds);
        ``looks_clock``: this process's own, for when it looks again under the name."""
        self.path, self.limit, self.window, self.clock = Path(path), limit, window, clock
        self.looks_clock = looks_clock
        self.slots = slots
        self.size = (slots + 1 + _PROBES) * _SLOT.size   # the file's own record, the probes' tail
        # Keyed BLAKE2b: a MAC in one C call (HMAC-SHA256 cost more than the rest together).
        self._secret = hmac.new(secret, b"shinsei rate limit\x00", hashlib.sha256).digest()
        self._lock = threading.Lock()
        # (pid, descriptor, (device, inode)) of this process's open table
        self._held: tuple[int, int, tuple[int, int]] | None = None
        self._swept = float("-inf")  # the last sweep this process saw in the file
        self._looked = float("-inf")  # when this process last looked what is under the name
        self._unusable = ""          # why the file is not being used (logged once), or ""
        self._fallback = RateLimiter(limit, window, clock=clock)
        self._keys: dict[str, bytes] = {}   # address → its slot key, for addresses seen lately

    def _key(self, address: str) -> bytes:
        """The keyed hash an address is stored as; kept for the next ``KEYS_KEPT`` addresses
        (a resident asks a few times in a row) rather than hashed on every request."""
        key = hashlib.blake2b(limited_as(address).encode("utf-8", "replace"), key=self._secret,
                              digest_size=16).digest()
        if len(self._keys) >= KEYS_KEPT:
            self._keys = {}
        self._keys[address] = key
        return key

    def check(self, address: str) -> tuple[bool, int]:
        """Would a lookup be answered now? Counts nothing."""
        return self.allow(address, count=False)

    def fail(self, address: str) -> None:
        """One failed lookup from this address."""
        self.allow(address)

    def allow(self, address: str, count: bool = True) -> tuple[bool, int]:
        key = self._keys.get(address)
        if key is None:
            key = self._key(address)
        with self._lock:
            try:
                descriptor = self._descriptor()
                now = self.clock()
                verdict = None if count else self._glance(descriptor, key, now)
                if verdict is None:
                    fcntl.flock(descriptor, fcntl.LOCK_EX)
                    try:
                        verdict = self._decide(descriptor, key, now, count)
                    finally:
                        fcntl.flock(descriptor, fcntl.LOCK_UN)
            except OSError as error:
                self._fall_back(error)
                return self._fallback.allow(address, count)
            if self._unusable:
                log.warning("rate limit file %s usable again: shared by every worker",
                            self.path)
                self._unusable = ""
            return verdict

    def _fall_back(self, error: OSError) -> None:
        """One log line when the file stops being usable (or fails another way), not one
        per request: the fallback is retried on every request and may last."""
        reason = f"{type(error).__name__}: {error}"
        if reason != self._unusable:
            log.error("rate limit file %s unusable (%s): this worker limits on its own",
                      self.path, reason)
            self._unusable = reason
        if isinstance(error, TableUnusable) or self._held is None:
            return
        # Opened again on the next request: a fresh look at whatever is under the name.
        self._close()

    def _descriptor(self) -> int:
        """This process's descriptor on the file now under the name, opened or reopened."""
        held = self._held
        if held is not None and held[0] != _this_process[0]:
            # A fork must not share the parent's open file: flock would not tell them apart.
            os.close(held[1])
            self._held = held = None
        if held is not None:
            now = self.looks_clock()
            if now - self._looked < RELOOK:
                return held[1]
            self._looked = now
            try:
                now_there = os.stat(self.path, follow_symlinks=False)
                if (now_there.st_dev, now_there.st_ino) == held[2]:
                    return held[1]
            except FileNotFoundError:
                pass
            log.warning("rate limit file %s was replaced or removed: opening it again",
                        self.path)
            self._close()
        return self._open()

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
                             | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise TableUnusable(errno.EINVAL, "not a regular file")
            if status.st_size < self.size:
                self._restore(descriptor, status.st_size, cut=status.st_size > 0)
        except OSError:
            os.close(descriptor)
            raise
        self._held = (os.getpid(), descriptor, (status.st_dev, status.st_ino))
        self._swept, self._looked = float("-inf"), self.looks_clock()
        return descriptor

    def _close(self) -> None:
        if self._held is not None and self._held[0] == os.getpid():
            os.close(self._held[1])
        self._held = None

    def _restore(self, descriptor: int, found: int, cut: bool) -> None:
        """Give the file its full size with its blocks reserved (under the lock when it was
        cut while in use); a full disk raises here, before any lookup relies on it.
        ``cut``: the file had its size and lost it (not a file being made)."""
        if cut:
            log.error("rate limit file %s is %d bytes, not %d (cut by hand or by another "
                      "program?): made whole again, the counts in it start afresh",
                      self.path, found, self.size)
        os.posix_fallocate(descriptor, 0, self.size)

    def _read(self, descriptor: int, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset``; a file cut since it was opened is restored (under
        the lock) and read again, never read past its end."""
        data = os.pread(descriptor, length, offset)
        if len(data) == length:
            return data
        self._restore(descriptor, os.fstat(descriptor).st_size, cut=True)
        data = os.pread(descriptor, length, offset)
        if len(data) != length:   # cut again at once: not ours to fight over
            raise TableUnusable(errno.EIO, "the file keeps being cut")
        return data

    def _glance(self, descriptor: int, key: bytes, now: float) -> tuple[bool, int] | None:
        """A question that counts nothing (a found answer, a form to show again), judged
        without ``flock`` when the client is well within the limit and nothing is to be
        written: (True, 0). Anything else — at or over the limit, a sweep due, the file
        cut — is None: decided under the lock as before. Only counted failures raise a
        count, always under the lock, so no reading here can let the limit be exceeded; a
        read that meets another process's write of the same slot judges this one uncounted
        question by the slot just before or after it."""
        window = self.window
        current = now - now % window
        if current - self._swept >= window:
            return None
        first = (int.from_bytes(key[:8], "big") % self.slots + 1) * _SLOT.size
        region = os.pread(descriptor, _PROBES * _SLOT.size, first)
        if len(region) != _PROBES * _SLOT.size:
            return None
        at = _aligned(region, key)
        if at < 0:
            return (True, 0) if self.limit > 0 else None   # no slot: no failure counted
        _held, start, hits, before = _SLOT.unpack_from(region, at)
        if start != current:
            before, hits = (hits if current - start == window else 0), 0
        if before * (1 - (now - current) / window) + hits >= self.limit:
            return None
        return True, 0

    def _decide(self, descriptor: int, key: bytes, now: float, count: bool) -> tuple[bool, int]:
        window = self.window
        current = now - now % window
        if current - self._swept >= window:   # another process may have swept already
            self._sweep(descriptor, current)
        offset, start, hits, before = self._slot(descriptor, key, current)
        if start != current:                       # a new window for this client
            before, hits = (hits if current - start == window else 0), 0
        share_left = 1 - (now - current) / window
        if before * share_left + hits >= self.limit:
            if start != current:   # the new window is noted; nothing else changed
                os.pwrite(descriptor, _SLOT.pack(key, current, hits, before), offset)
            return False, self._retry_after(now, current, hits, before)
        if count:
            os.pwrite(descriptor, _SLOT.pack(key, current, hits + 1, before), offset)
        return True, 0

    def _slot(self, descriptor: int, key: bytes, current: float):
        """(offset, window start, hits, hits before) of the client's slot, or of the slot
        it takes: an empty or stale one, else the one idle longest."""
        first = (int.from_bytes(key[:8], "big") % self.slots + 1) * _SLOT.size
        region = self._read(descriptor, first, _PROBES * _SLOT.size)   # one read for all
        # Searched in C: a resident who was only ever answered "found" has no slot, and
        # looking at the eight probes one by one in Python cost more than the read.
        at = _aligned(region, key)
        if at >= 0:
            _held, start, hits, before = _SLOT.unpack_from(region, at)
            return first + at, start, hits, before
        at = _aligned(region, _EMPTY)   # the first empty probe, if any, is the one taken
        if at >= 0:
            return first + at, current, 0, 0
        taken, taken_age = first, float("inf")   # else the one idle longest
        for probe, (_held, start, _hits, _before) in enumerate(_SLOT.iter_unpack(region)):
            if start < taken_age:
                taken, taken_age = first + probe * _SLOT.size, start
        return taken, current, 0, 0

    def _retry_after(self, now, current, hits, before) -> int:
        """Seconds until the estimate falls below the limit with no further hits."""
        if hits >= self.limit:      # only the next window, weighted by these hits, can help
            wait = current + self.window * (2 - self.limit / hits) - now
        else:
            wait = current + self.window * (1 - (self.limit - hits) / before) - now
        return max(1, int(wait) + 1)

    def _sweep(self, descriptor: int, current: float) -> None:
        """Once a window, forget clients with no hit in this window or the one before:
        addresses (even keyed) are held no longer than the limit needs them. The time of
        the last sweep is kept in the file's first record, shared by every process."""
        (last,) = _SWEPT.unpack(self._read(descriptor, 0, _SWEPT.size))
        self._swept = max(last, self._swept) if current - last < self.window else current
        if current - last < self.window:
            return
        table = bytearray(self._read(descriptor, 0, self.size))
        _SWEPT.pack_into(table, 0, current)
        blank = bytes(_SLOT.size)
        for index, (held, start, _hits, _before) in enumerate(
                _SLOT.iter_unpack(memoryview(table)[_SLOT.size:])):
            if held != _EMPTY and start < current - self.window:
                table[(index + 1) * _SLOT.size:(index + 2) * _SLOT.size] = blank
        os.pwrite(descriptor, table, 0)


def _aligned(region: bytes, key: bytes) -> int:
    """Where ``key`` begins a slot of ``region`` (a multiple of the slot size), or -1."""
    at = region.find(key)
    while at > 0 and at % _SLOT.size:
        at = region.find(key, at + 1)
    return at


def limited_as(address: str) -> str:
    """What one budget belongs to: an IPv4 address, or an IPv6 /64 (one household's or one
    server's prefix — counting each of its 2^64 addresses apart would be no limit at all)."""
    if ":" not in address:
        return address   # IPv4 as the server wrote it: no parsing on the hot path
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def exempt_networks(text: str) -> tuple:
    """The city's own counters (``mirror.rate_limit_exempt``: addresses or networks).

    Strict: ``127.0.60.5/24`` is refused, not read as the whole /24 — an entry that meant
    one counter must never exempt its 255 neighbours without anyone noticing."""
    return tuple(_exempt_network(entry) for entry in text.split())


def _exempt_network(entry: str):
    try:
        return ipaddress.ip_network(entry, strict=True)
    except ValueError as error:
        if "host bits set" in str(error):
            network = ipaddress.ip_network(entry, strict=False)
            address = entry.split("/")[0]
            raise ValueError(f"mirror.rate_limit_exempt: {entry} はネットワークとしては {network} "
                             f"全体を指します。窓口の端末 1 台なら {address}、ネットワーク全体なら "
                             f"{network} と書いてください") from None
        raise ValueError(f"mirror.rate_limit_exempt: {error}（アドレスかネットワーク"
                         "（例: 192.0.2.10 203.0.113.0/28）を空白区切りで）") from None


def is_exempt(address: str, networks: tuple) -> bool:
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(environ, trusted_proxies) -> str:
    """The resident's address; X-Forwarded-For is believed only from a trusted proxy."""
    remote = environ.get("REMOTE_ADDR", "")
    if remote not in trusted_proxies:
        return remote
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address
    return remote
