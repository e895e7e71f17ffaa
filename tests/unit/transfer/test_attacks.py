"""Every attack on the snapshot that the design names, performed, and shown to fail."""

import base64
import json
import struct
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.transfer.snapshots import NOW, ORIGIN, entries, make, new_key, policy
from transfer import errors
from transfer.envelope import canonical_json, pae
from transfer.snapshot import MAGIC, PAYLOAD_TYPE, assemble, parse
from transfer.verify import Origin, verify_snapshot

KEY = new_key()
GOOD = make([KEY])


def verify(data, trust=None, last=None, now=NOW):
    return verify_snapshot(data, trust or policy(KEY), last_sequence=last, now=now)


def header_span(data):
    (length,) = struct.unpack(">I", data[8:12])
    return 12, 12 + length


def replace_header(data, **changes):
    """Edit header fields without re-signing: what an attacker without the key can do."""
    parsed = parse(data)
    header = canonical_json({**parsed.header, **changes})
    block = canonical_json({"signatures": parsed.signatures})
    return (MAGIC + struct.pack(">I", len(header)) + header + struct.pack(">I", len(block))
            + block + bytes(parsed.body))


def test_valid_snapshot_verifies():
    snapshot = verify(GOOD, last=9)
    assert snapshot.sequence == 10 and snapshot.table.count == 50


def test_forged_signature():
    parsed = parse(GOOD)
    forged = [{"keyid": KEY.key_id, "sig": base64.b64encode(b"\x01" * 64).decode()}]
    data = GOOD.replace(canonical_json({"signatures": parsed.signatures}),
                        canonical_json({"signatures": forged}))
    with pytest.raises(errors.SignatureRejected):
        verify(data)


def test_unknown_key():
    with pytest.raises(errors.SignatureRejected):
        verify(make([new_key()]))


def test_key_id_is_only_a_hint():
    # A signature from an untrusted key that claims a trusted key's id is still refused.
    intruder = new_key()
    data = make([intruder])
    data = data.replace(intruder.key_id.encode(), KEY.key_id.encode())
    with pytest.raises(errors.SignatureRejected):
        verify(data)


def test_byte_flipped_in_header():
    start, end = header_span(GOOD)
    data = bytearray(GOOD)
    data[(start + end) // 2] ^= 0x01
    with pytest.raises((errors.SignatureRejected, errors.MalformedSnapshot)):
        verify(bytes(data))


def test_header_field_edited_without_the_key():
    with pytest.raises(errors.SignatureRejected):
        verify(replace_header(GOOD, sequence=999))


def test_byte_flipped_in_body():
    data = bytearray(GOOD)
    data[-5] ^= 0x01
    with pytest.raises(errors.BodyMismatch):
        verify(bytes(data))


@pytest.mark.parametrize("keep", [4, 11, 40, len(GOOD) - 1])
def test_truncated_file(keep):
    with pytest.raises((errors.MalformedSnapshot, errors.BodyMismatch)):
        verify(GOOD[:keep])


def test_oversized_file_rejected_before_reading_it_whole():
    with pytest.raises(errors.SnapshotTooLarge):
        verify(GOOD, trust=policy(KEY, max_size=len(GOOD) - 1))


def test_trailing_garbage():
    with pytest.raises(errors.BodyMismatch):
        verify(GOOD + b"\x00")


def test_wrong_payload_type():
    # A signature the same key made over another kind of file never counts for a snapshot.
    other = make([KEY], payload_type="application/vnd.shinsei.audit-export.v1+json")
    with pytest.raises(errors.SignatureRejected):
        verify(other)


def test_payload_type_field_edited_to_match():
    other = make([KEY], payload_type="application/vnd.shinsei.audit-export.v1+json")
    with pytest.raises(errors.SignatureRejected):
        verify(replace_header(other, payload_type=PAYLOAD_TYPE))


def test_test_snapshot_offered_to_prod():
    test_snapshot = make([KEY], origin=Origin("142158", "test"))
    with pytest.raises(errors.WrongOrigin):
        verify(test_snapshot)


def test_other_municipality():
    with pytest.raises(errors.WrongOrigin):
        verify(make([KEY], origin=Origin("131016", "prod")))


def test_rollback_to_a_lower_sequence():
    with pytest.raises(errors.RollbackRefused):
        verify(make([KEY], sequence=5), last=10)


def test_replay_of_the_same_sequence_with_other_content():
    with pytest.raises(errors.RollbackRefused):
        verify(make([KEY], sequence=10, rows=entries(3)), last=10)


def test_expired():
    with pytest.raises(errors.SnapshotExpired):
        verify(GOOD, now=NOW + timedelta(hours=73))


def test_mix_and_match_header_of_one_body_of_another():
    other = make([KEY], sequence=11, rows=entries(80))
    _start, end = header_span(GOOD)
    signatures_end = end + 4 + struct.unpack(">I", GOOD[end:end + 4])[0]
    other_body = parse(other).body
    with pytest.raises(errors.BodyMismatch):
        verify(GOOD[:signatures_end] + bytes(other_body))


def test_entries_unsorted():
    rows = entries(10)
    rows[3], rows[4] = rows[4], rows[3]
    with pytest.raises(errors.InvalidEntries):
        verify(make([KEY], rows=rows))


def test_entries_duplicated():
    rows = entries(10)
    rows[5] = rows[4]
    with pytest.raises(errors.InvalidEntries):
        verify(make([KEY], rows=rows))


def test_entries_miscounted():
    parsed = parse(GOOD)
    header = {**parsed.header, "entry_count": parsed.header["entry_count"] + 1}
    with pytest.raises(errors.InvalidEntries):
        verify(_resign(header, bytes(parsed.body)))


def _resign(header, body):
    """Sign an edited header with the real key: the verifier's later checks must catch it."""
    header_bytes = canonical_json(header)
    sig = KEY.sign(pae(PAYLOAD_TYPE, header_bytes))
    return assemble(header_bytes, [{"keyid": KEY.key_id, "sig": base64.b64encode(sig).decode()}],
                    body)


def test_duplicate_signatures_count_once_toward_a_threshold():
    second = new_key()
    doubled = parse(make([KEY])).signatures * 2
    data = _replace_signatures(make([KEY]), doubled)
    with pytest.raises(errors.SignatureRejected):
        verify(data, trust=policy(KEY, second, threshold=2))
    assert verify(make([KEY, second]), trust=policy(KEY, second, threshold=2))


def _replace_signatures(data, signatures):
    parsed = parse(data)
    old = canonical_json({"signatures": parsed.signatures})
    new = canonical_json({"signatures": signatures})
    start = data.index(old)
    return data[:start - 4] + struct.pack(">I", len(new)) + new + data[start + len(old):]


def test_key_rotation():
    old, new = KEY, new_key()
    both = policy(old, new)
    assert verify(make([old]), trust=both) and verify(make([new]), trust=both)
    only_new = policy(new)
    with pytest.raises(errors.SignatureRejected):
        verify(make([old], sequence=20), trust=only_new)
    assert verify(make([new], sequence=21), trust=only_new, last=20)


def test_fast_forward_recovery_after_a_leaked_key():
    leaked, fresh = KEY, new_key()
    # The thief publishes an absurd sequence: accepted while the leaked key is trusted ...
    absurd = verify(make([leaked], sequence=2**53), last=10)
    assert absurd.sequence == 2**53
    # ... which would block every honest snapshot after it,
    with pytest.raises(errors.RollbackRefused):
        verify(make([leaked], sequence=11), last=absurd.sequence)
    # so recovery rotates to a new key and resets the accepted sequence with it (the
    # runbook's procedure): the leaked key's snapshots are then refused whatever their number.
    after = policy(fresh)
    with pytest.raises(errors.SignatureRejected):
        verify(make([leaked], sequence=2**53 + 1), trust=after, last=0)
    assert verify(make([fresh], sequence=11), trust=after, last=0).sequence == 11


def test_json_bool_is_not_a_number():
    resigned = _resign({**parse(GOOD).header, "sequence": True}, bytes(parse(GOOD).body))
    with pytest.raises(errors.MalformedSnapshot):
        verify(resigned)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(position=st.integers(min_value=0, max_value=len(GOOD) - 1),
       delta=st.integers(min_value=1, max_value=255))
def test_every_single_byte_change_is_rejected(position, delta):
    data = bytearray(GOOD)
    data[position] = (data[position] + delta) % 256
    with pytest.raises(errors.SnapshotError):
        verify(bytes(data))


def test_header_json_is_canonical():
    start, end = header_span(GOOD)
    header = json.loads(GOOD[start:end])
    assert canonical_json(header) == GOOD[start:end]
    assert ORIGIN.as_header() == header["origin"]
