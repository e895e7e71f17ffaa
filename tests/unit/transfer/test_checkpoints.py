"""Audit checkpoints are signed in the one envelope every signature of the product uses, and
the checkpoint files written before that (a bare envelope of their own) keep verifying:
``data/audit-checkpoints-v1.jsonl`` was written by that earlier code and is never rewritten."""

import base64
import json
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from transfer import checkpoints, snapshot
from transfer.envelope import SIGNATURE_DOMAIN, canonical_json, pae
from transfer.keys import SigningKey, load_public_key

DATA = Path(__file__).parent / "data"
OLD_FILE = DATA / "audit-checkpoints-v1.jsonl"
AT = datetime(2026, 5, 1, 3, 0, 0, 250000)


@pytest.fixture
def old_key():
    return load_public_key(DATA / "checkpoint-v1.pub")


def test_a_checkpoint_file_written_by_the_earlier_code_still_verifies(old_key):
    read = checkpoints.read_file(OLD_FILE, [old_key])
    assert [(c.count, c.at) for c in read] == [
        (1, datetime(2026, 4, 1, 3, 0, 0, 123456)), (57, datetime(2026, 4, 2, 3, 0)),
        (1200, datetime(2026, 4, 3, 15, 30, 7, 5))]
    # Same lines, same text: nothing about reading them rewrites the file's shape.
    assert [json.dumps(c.as_dict(), sort_keys=True) for c in read] == \
        OLD_FILE.read_text().splitlines()


def test_an_edited_line_of_the_earlier_file_is_refused(tmp_path, old_key):
    lines = OLD_FILE.read_text().splitlines()
    lines[1] = lines[1].replace('"count": 57', '"count": 58')
    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join(lines) + "\n")
    with pytest.raises(checkpoints.CheckpointError, match=r"edited\.jsonl:2: signature"):
        checkpoints.read_file(edited, [old_key])


def test_a_new_checkpoint_is_signed_in_the_shared_envelope_over_canonical_json(tmp_path):
    key = SigningKey(Ed25519PrivateKey.generate())
    signed = checkpoints.sign(9, "ab" * 32, AT, key)
    body = canonical_json({"count": 9, "head_hash": "ab" * 32, "at": "2026-05-01T03:00:00.250000Z"})
    assert signed.body() == body
    message = pae(checkpoints.PAYLOAD_TYPE, body)
    assert message.startswith(SIGNATURE_DOMAIN + b" ")
    key.public_key.verify(base64.b64decode(signed.signature), message)    # raises if not
    path = tmp_path / "checkpoints.jsonl"
    checkpoints.append_to_file(path, signed)
    assert checkpoints.read_file(path, [key.public_key]) == [signed]


def test_a_checkpoint_signature_never_passes_for_a_snapshot_signature():
    key = SigningKey(Ed25519PrivateKey.generate())
    signed = checkpoints.sign(9, "ab" * 32, AT, key)
    with pytest.raises(InvalidSignature):
        key.public_key.verify(base64.b64decode(signed.signature),
                              pae(snapshot.PAYLOAD_TYPE, signed.body()))


def test_a_checkpoint_by_an_untrusted_key_is_refused(tmp_path, old_key):
    other = SigningKey(Ed25519PrivateKey.generate())
    path = tmp_path / "checkpoints.jsonl"
    checkpoints.append_to_file(path, checkpoints.sign(1, "0" * 64, AT, other))
    with pytest.raises(checkpoints.CheckpointError, match="does not verify"):
        checkpoints.read_file(path, [old_key])
