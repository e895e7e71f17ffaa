"""Format 2: each entry's action details (deficiency kinds as bits, documents sent and
return-by days) and each programme's kinds, 返送先 and 同封するもの — verified, refused when
malformed, answered by transfer.answer; and format 1 still verifies and answers as before."""

import base64
from datetime import date

import pytest

from tests.unit.transfer.snapshots import SECRET, STATUSES, make, new_key, policy
from transfer import errors
from transfer.answer import answer_entry
from transfer.envelope import canonical_json, pae
from transfer.lookup import lookup_key
from transfer.snapshot import (
    ENTRY_V1,
    MAX_DEFICIENCY_KINDS,
    PAYLOAD_TYPE,
    assemble,
    day_number,
    parse,
)
from transfer.table import Entry
from transfer.verify import verify_snapshot

KEY = new_key()
KINDS = [
    {"code": "id_copy", "bit": 0, "wording": {"ja": "本人確認書類の写し", "en": "A copy of your ID",
                                              "ja-easy": "あなたが だれか わかる {書類|しょるい}の コピー"}},
    {"code": "signature", "bit": 5, "wording": {"ja": "署名", "en": "Your signature"}},
    {"code": "bank", "bit": 31, "wording": {"ja": "振込先口座の確認書類"}},
]
PROGRAMME = {"code": "p2020", "name": {"ja": "給付金", "en": "Payment"}, "needs_birth_date": False,
             "lookup_opens_on": None, "lookup_closes_on": None, "deficiency_kinds": KINDS,
             "return_to": {"ja": "〒252-5277 中央区中央2-11-15 給付金担当",
                           "en": "Benefit Office, 2-11-15 Chuo"},
             "enclose": {"ja": "同封の返信用封筒に入れてください。"}}
ACTION = {"code": "deficient", "final": False, "dates": [], "wording": {}, "action_needed": True}
STATUSES_2 = [*STATUSES, ACTION]       # index 3: the resident has to act
SENT, BY = date(2026, 5, 20), date(2026, 6, 10)


def key(n):
    return lookup_key(SECRET, "p2020", f"{n:08d}")


def v2(rows, **header):
    fields = {"programmes": [PROGRAMME], "statuses": STATUSES_2, **header}
    return make([KEY], version=2, rows=sorted(rows), **fields)


def verify(data):
    return verify_snapshot(data, policy(KEY), last_sequence=None, now=None)


def test_a_format_2_entry_answers_what_is_missing_where_and_by_when():
    snapshot = verify(v2([(key(1), 3, 0, 0, 0b1 | 1 << 31, day_number(SENT), day_number(BY)),
                          (key(2), 1, 0, 0, 0, 0, 0)]))
    assert snapshot.header["format"] == 2 and snapshot.header["entry_size"] == 29
    answer = answer_entry(snapshot.header, PROGRAMME, snapshot.table.find(key(1)))
    action = answer.action
    assert answer.found and answer.status["code"] == "deficient"
    assert action.missing_in("ja") == ["本人確認書類の写し", "振込先口座の確認書類"]
    # A language the header lacks reads as Japanese.
    assert action.missing_in("en") == ["A copy of your ID", "振込先口座の確認書類"]
    assert action.return_to_in("en") == "Benefit Office, 2-11-15 Chuo"
    assert action.enclose_in("ja-easy") == "同封の返信用封筒に入れてください。"
    assert (action.documents_sent_on, action.return_by) == (SENT, BY)
    assert not action.overdue(BY) and action.overdue(date(2026, 6, 11))
    # A status that needs nothing of the resident has no action details.
    assert answer_entry(snapshot.header, PROGRAMME, snapshot.table.find(key(2))).action is None


def test_a_format_1_snapshot_still_verifies_and_answers_as_before():
    """The mirror keeps answering from the snapshot it holds while the intranet upgrades."""
    scheduled = {"code": "payment_scheduled", "final": False, "dates": ["scheduled_payment_on"],
                 "wording": {}}
    data = make([KEY], rows=[(key(1), 3, day_number(date(2020, 7, 10)), 0)],
                statuses=[*STATUSES, scheduled])
    assert parse(data).header["entry_size"] == ENTRY_V1.size == 21
    snapshot = verify(data)
    answer = answer_entry(snapshot.header, snapshot.header["programmes"][0],
                          snapshot.table.find(key(1)))
    assert answer.code == "payment_scheduled" and answer.scheduled_payment_on == date(2020, 7, 10)
    assert answer.action is None


def test_action_details_need_a_status_that_asks_for_action_and_something_set():
    header = {"statuses": STATUSES_2}
    nothing = Entry(key(1), 3, None, None)   # 不備あり, but staff set no detail
    assert answer_entry(header, PROGRAMME, nothing).action is None
    only_deadline = Entry(key(1), 3, None, None, 0, None, BY)
    assert answer_entry(header, PROGRAMME, only_deadline).action.missing == ()
    # A bit the programme does not define (another programme's kind) names nothing here.
    other = {**PROGRAMME, "deficiency_kinds": KINDS[:1]}
    assert answer_entry(header, other, Entry(key(1), 3, None, None, 1 << 5, SENT, BY)) \
        .action.missing_in("ja") == []


def test_a_kind_bit_no_programme_defines_is_refused():
    with pytest.raises(errors.InvalidEntries, match="deficiency kind bit 7"):
        verify(v2([(key(1), 3, 0, 0, 1 << 7, 0, 0)]))


@pytest.mark.parametrize(("programme", "problem"), [
    ({"deficiency_kinds": "id_copy"}, "deficiency_kinds must be a list"),
    ({"deficiency_kinds": [{"code": f"k{n}", "bit": n % 32, "wording": {"ja": "x"}}
                           for n in range(MAX_DEFICIENCY_KINDS + 1)]}, "at most 32"),
    ({"deficiency_kinds": [KINDS[0], {**KINDS[1], "bit": 0}]}, "bit 0 .* repeated"),
    ({"deficiency_kinds": [KINDS[0], {**KINDS[1], "code": "id_copy"}]}, "repeated"),
    ({"deficiency_kinds": [{**KINDS[0], "bit": 32}]}, "bit 32"),
    ({"deficiency_kinds": [{**KINDS[0], "bit": -1}]}, "bit -1"),
    ({"deficiency_kinds": [{**KINDS[0], "bit": True}]}, "bit True"),
    ({"deficiency_kinds": [{**KINDS[0], "code": "本人確認"}]}, "code"),
    ({"deficiency_kinds": [{**KINDS[0], "wording": {"en": "ID"}}]}, "no Japanese"),
    ({"deficiency_kinds": [{**KINDS[0], "wording": {"ja": "x" * 5000}}]}, "too long"),
    ({"deficiency_kinds": ["id_copy"]}, "not an object"),
    ({"return_to": {"en": "Benefit Office"}}, "return_to: missing"),
    ({"enclose": "返信用封筒"}, "enclose: missing"),
])
def test_malformed_action_details_in_the_header_are_refused(programme, problem):
    with pytest.raises(errors.MalformedSnapshot, match=problem):
        verify(v2([(key(1), 0, 0, 0, 0, 0, 0)], programmes=[{**PROGRAMME, **programme}]))


@pytest.mark.parametrize(("version", "entry_size", "problem"), [
    (3, 29, "format 3 is not supported"),
    (True, 29, "'format' missing or not int"),
    # A format-2 body described as format 1 (an old reading of 29-byte entries): refused.
    (1, 29, "entry size 29 is not 21"),
    (2, 21, "entry size 21 is not 29"),
])
def test_a_format_and_entry_size_that_disagree_are_refused(version, entry_size, problem):
    """Signed by a trusted key, so only the format checks stand between it and the page."""
    signed = parse(v2([(key(1), 0, 0, 0, 0, 0, 0)]))
    header = canonical_json({**signed.header, "format": version, "entry_size": entry_size})
    signature = base64.b64encode(KEY.sign(pae(PAYLOAD_TYPE, header))).decode()
    data = assemble(header, [{"keyid": KEY.key_id, "sig": signature}], bytes(signed.body))
    with pytest.raises(errors.MalformedSnapshot, match=problem):
        verify(data)


def test_a_format_1_snapshot_cannot_smuggle_action_details():
    """Format 1 entries have no room for them: whatever the header says, none are read."""
    snapshot = verify(make([KEY], programmes=[PROGRAMME], statuses=STATUSES_2,
                           rows=[(key(1), 3, 0, 0)]))
    assert answer_entry(snapshot.header, PROGRAMME, snapshot.table.find(key(1))).action is None


def test_a_body_without_action_details_is_written_in_format_1():
    """So a public host not yet upgraded takes every publication until staff first set them."""
    from transfer.build import oldest_format
    from transfer.snapshot import ENTRY

    keys = sorted(key(n) for n in range(40))
    plain = b"".join(ENTRY.pack(k, n % 3, n, 0, 0, 0, 0) for n, k in enumerate(keys))
    body, version = oldest_format(plain)
    assert version == 1 and body == b"".join(ENTRY_V1.pack(k, n % 3, n, 0)
                                             for n, k in enumerate(keys))
    assert oldest_format(b"") == (b"", 1)
    # Any one byte of any entry's action details keeps format 2, the body as it is.
    for column in range(ENTRY_V1.size, ENTRY.size):
        marked = bytearray(plain)
        marked[7 * ENTRY.size + column] = 1
        assert oldest_format(bytes(marked)) == (bytes(marked), 2), column
