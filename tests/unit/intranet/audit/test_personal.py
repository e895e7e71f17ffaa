"""Values beside the chain: the chain holds only a salted digest, so cutting the values
leaves it verifiable and says nothing of the applicant."""

from intranet.audit import personal


def test_each_row_has_its_own_salt_and_the_digest_hides_the_value():
    rows = personal.rows_for({2: {"receipt": "12345678"}, 1: {"receipt": "12345678"}})
    assert [r["application_id"] for r in rows] == [1, 2]
    assert rows[0]["salt"] != rows[1]["salt"] and len(rows[0]["salt"]) == 32
    digest = personal.digest(rows)
    assert "12345678" not in digest and len(digest) == 64
    # The same value twice never gives the same digest: no dictionary of receipts helps.
    again = personal.rows_for({1: {"receipt": "12345678"}, 2: {"receipt": "12345678"}})
    assert personal.digest(again) != digest


def test_the_digest_changes_with_any_value_and_not_with_row_order():
    rows = personal.rows_for({1: {"reason": "a"}, 2: {"reason": "b"}})
    assert personal.digest(list(reversed(rows))) == personal.digest(rows)
    edited = [dict(rows[0], value='{"reason":"x"}'), rows[1]]
    assert personal.digest(edited) != personal.digest(rows)
