"""What a signature covers, for everything this product signs (snapshot headers, audit
checkpoints): one canonical JSON and one signing envelope.

The canonical JSON has sorted keys, no insignificant spaces and UTF-8 text as it is (not
``\\u`` escapes): one text per value, so a signer and a verifier written years apart agree
on the bytes. The audit chain hashes its records with the same text (``intranet.audit.chain``).

The envelope is a pre-authentication encoding in the spirit of DSSE: a fixed domain, then
the payload type and the body, each length-prefixed. The payload type is bound into what is
signed, so a signature over one kind of thing (a checkpoint) never verifies as another (a
snapshot), even under the same key.
"""

import json
from typing import Any

SIGNATURE_DOMAIN = b"SHINSEI-SIG-V1"

# One encoder for every call: json.dumps with options builds a new one each time, which
# cost as much as the encoding when the audit check hashes millions of records. ``str`` for
# what JSON has no type for (a date in an audit record's details), as the chain always did.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                              default=str)
canonical_text = _CANONICAL.encode


def canonical_json(value: Any) -> bytes:
    """The canonical JSON of ``value`` as the UTF-8 bytes that are signed."""
    return _CANONICAL.encode(value).encode("utf-8")


def pae(payload_type: str, body: bytes) -> bytes:
    """The bytes a signature covers: domain, then type and body, each length-prefixed."""
    kind = payload_type.encode("utf-8")
    return b" ".join([SIGNATURE_DOMAIN, str(len(kind)).encode(), kind,
                      str(len(body)).encode(), body])
