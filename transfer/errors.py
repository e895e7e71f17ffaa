"""Why a snapshot is refused. One class per check, in the order the verifier runs them.

The public host logs the class name and message and quarantines the file; the live
snapshot keeps serving. ``cryptography`` and I/O errors are turned into these at the edge.
"""


class SnapshotError(Exception):
    """Base of every refusal."""


class SnapshotTooLarge(SnapshotError):
    """Bigger than the configured cap; refused before it was read whole."""


class MalformedSnapshot(SnapshotError):
    """Not the snapshot format: bad magic, lengths, JSON or header fields."""


class SignatureRejected(SnapshotError):
    """Not signed by enough trusted keys (forged, unknown key, below threshold)."""


class WrongPayloadType(SnapshotError):
    """Signed, but as another kind of file."""


class WrongOrigin(SnapshotError):
    """Signed for another municipality or environment (e.g. a test snapshot offered to prod)."""


class RollbackRefused(SnapshotError):
    """Sequence not greater than the last accepted one: an old or replayed snapshot."""


class SnapshotExpired(SnapshotError):
    """Past its expiry time."""


class BodyMismatch(SnapshotError):
    """Body length or SHA-256 differs from what the signed header promises."""


class InvalidEntries(SnapshotError):
    """Entries unsorted, duplicated, of the wrong size or miscounted."""


class KeyFileError(Exception):
    """A key file is missing, malformed or readable by others."""
