"""The lookup HMAC keys this public host holds, by id.

A snapshot's header names the key that made its hashes (``lookup_key_id``); an answer uses
that key. ``mirror.lookup_key`` names key files or folders of them (``*.key``), so a rotation
of the lookup key is carried to the host beside the old one *before* the first snapshot made
with it, and the old one is removed after (docs/runbook): residents are answered throughout.

The receiver refuses a snapshot whose key this host does not hold (it would answer every
resident "not found"), so the live snapshot keeps answering until the key is carried; the
web reads the folder again when the live snapshot names a key it has not loaded yet — no
restart.
"""

import logging
import time
from collections.abc import Iterable

from transfer.errors import KeyFileError
from transfer.keys import key_files, load_lookup_key
from transfer.lookup import lookup_key_id

log = logging.getLogger(__name__)
# How often an unknown id makes the files be read again (a resident's request must not).
REREAD_SECONDS = 1.0


class LookupKeys:
    def __init__(self, entries: Iterable[str]):
        self.entries = list(entries)
        self._keys = self._read()
        self._read_at = time.monotonic()

    def _read(self) -> dict[str, bytes]:
        files = key_files(self.entries, ("*.key",))
        if not files:
            raise KeyFileError(f"mirror.lookup_key names no lookup key ({' '.join(self.entries)})")
        return {lookup_key_id(secret): secret for secret in map(load_lookup_key, files)}

    @property
    def first(self) -> bytes:
        """One key of this host's, for what needs a secret of its own (rate-limit table
        names, repeat proofs)."""
        return next(iter(self._keys.values()))

    def secret(self, key_id: str) -> bytes | None:
        """The key with this id, reading the files again (at most once a second) if it is
        not among those loaded; None if this host does not hold it."""
        found = self._keys.get(key_id)
        if found is None and time.monotonic() - self._read_at >= REREAD_SECONDS:
            self._read_at = time.monotonic()
            try:
                self._keys = self._read()
            except (KeyFileError, OSError) as error:
                log.error("lookup keys not read again: %s", error)
            found = self._keys.get(key_id)
        return found

    def ids(self) -> list[str]:
        return sorted(self._keys)
