"""The audit chain, as pure functions: every kind of tampering is named."""

from dataclasses import dataclass, replace
from datetime import datetime

import pytest

from intranet.audit.chain import GENESIS_HASH, record_hash, verify_chain


@dataclass(frozen=True)
class Record:
    seq: int
    at: datetime
    actor: str
    actor_role: str
    os_user: str
    host: str
    action: str
    target: str
    details: str
    prev_hash: str
    hash: str = ""


def build(n):
    records, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        record = Record(seq, datetime(2020, 6, 1, 9, 0, seq), "staff", "staff", "www", "10.0.0.1",
                        "application.status", f"application:{seq}", '{"to":"reviewing"}', prev)
        record = replace(record, hash=record_hash(record))
        records.append(record)
        prev = record.hash
    return records


def verdict(records, head=None):
    head = head or (records[-1].seq, records[-1].hash)
    return verify_chain(records, *head)


def test_intact_chain_verifies():
    result = verdict(build(5))
    assert result.ok and result.count == 5


def test_empty_chain_verifies():
    assert verify_chain([], 0, GENESIS_HASH).ok


def test_edited_record_is_named():
    records = build(5)
    records[2] = replace(records[2], actor="someone-else")
    result = verdict(records)
    assert not result.ok and result.broken_seq == 3 and "hash" in result.reason


def test_edit_with_recomputed_hash_breaks_the_next_link():
    records = build(5)
    forged = replace(records[2], details='{"to":"paid"}')
    records[2] = replace(forged, hash=record_hash(forged))
    result = verdict(records)
    assert not result.ok and result.broken_seq == 4


def test_deleted_record_is_named():
    records = build(5)
    del records[1]
    result = verdict(records, (5, build(5)[-1].hash))
    assert not result.ok and result.broken_seq == 2 and "missing" in result.reason


def test_reordered_records_are_detected():
    records = build(5)
    records[1], records[2] = records[2], records[1]
    assert not verdict(records, (5, build(5)[-1].hash)).ok


@pytest.mark.parametrize("keep", [3, 4])
def test_truncated_tail_is_detected_by_the_head(keep):
    full = build(5)
    result = verify_chain(full[:keep], 5, full[-1].hash)
    assert not result.ok and result.broken_seq == keep + 1
