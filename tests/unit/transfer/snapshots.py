"""Snapshots made in memory for the verifier's tests: the signing side played by the test."""

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from transfer.build import sign_snapshot
from transfer.keys import SigningKey
from transfer.lookup import lookup_key
from transfer.snapshot import PAYLOAD_TYPE, format_time
from transfer.verify import Origin, TrustPolicy

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ORIGIN = Origin("142158", "prod")
SECRET = b"k" * 32
STATUSES = [{"code": code, "final": False, "dates": [], "wording": {}}
            for code in ("received", "reviewing", "paid")]


def new_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def entries(count=50, status=0):
    return sorted((lookup_key(SECRET, "p2020", f"{n:08d}"), status, 0, 0) for n in range(count))


def make(keys, *, sequence=10, origin=ORIGIN, created=NOW, valid=timedelta(hours=72),
         rows=None, payload_type=PAYLOAD_TYPE, version=1, **extra) -> bytes:
    """A format-1 snapshot (as every mirror has held one) unless ``version`` says otherwise."""
    header = {
        "format": version, "payload_type": payload_type, "origin": origin.as_header(),
        "sequence": sequence, "created_at": format_time(created),
        "expires_at": format_time(created + valid), "lookup_key_id": "lk-test",
        "programmes": [{"code": "p2020", "name": {"ja": "給付金", "en": "Payment"},
                        "needs_birth_date": False, "lookup_opens_on": None,
                        "lookup_closes_on": None}],
        "statuses": STATUSES, **extra,
    }
    return sign_snapshot(entries() if rows is None else rows, 0, signing_keys=keys,
                         header=header).data


def policy(*keys, threshold=1, origin=ORIGIN, max_size=10_000_000) -> TrustPolicy:
    return TrustPolicy(keys=[k.public_key for k in keys], origin=origin, threshold=threshold,
                       max_size=max_size)
