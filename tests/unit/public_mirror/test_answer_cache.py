"""The answer cache: what a key is made of, eviction on a new snapshot, and its bound."""

from datetime import date

from public_mirror.answer_cache import AnswerCache
from public_mirror.resident import Reply
from transfer.answer import ActionDetails, Answer


class _Snapshot:
    def __init__(self, sequence):
        self.sequence = sequence


PROGRAMME = {"code": "p2020", "needs_birth_date": False}
SCHEDULED = {"code": "payment_scheduled"}


def reply(kind="found", sequence=7, lang="ja", day=date(2020, 7, 10)):
    answer = Answer(kind == "found", SCHEDULED if kind == "found" else None, day, None)
    return Reply(kind, lang, _Snapshot(sequence), PROGRAMME, answer)


def test_key_holds_the_answer_and_nothing_of_the_question():
    key = reply().cache_key
    assert key == (7, "ja", "p2020", True, "payment_scheduled", date(2020, 7, 10), None, None)
    assert reply(lang="en").cache_key != key
    assert reply(day=date(2020, 7, 11)).cache_key != key


def test_key_holds_the_action_details_and_whether_the_deadline_has_passed(monkeypatch):
    """Two residents with other kinds, or a deadline passed for one only, never share a page."""
    from public_mirror import lookup

    def acting(kinds, return_by):
        action = ActionDetails((), kinds, date(2026, 5, 20), return_by, {}, {})
        return Reply("found", "ja", _Snapshot(7), PROGRAMME,
                     Answer(True, {"code": "deficient"}, None, None, action))

    monkeypatch.setattr(lookup, "today_in_japan", lambda: date(2026, 6, 10))
    before = acting(0b101, date(2026, 6, 10)).cache_key
    assert before[-1] == (0b101, date(2026, 5, 20), date(2026, 6, 10), False)
    assert acting(0b100, date(2026, 6, 10)).cache_key != before
    monkeypatch.setattr(lookup, "today_in_japan", lambda: date(2026, 6, 11))
    assert acting(0b101, date(2026, 6, 10)).cache_key[-1][-1] is True


def test_only_answers_are_kept():
    for kind in ("closed", "invalid", "rate_limited", "maintenance", "updating"):
        assert Reply(kind, "ja").cache_key is None


def test_a_new_snapshot_empties_the_cache():
    cache = AnswerCache()
    cache.keep(reply(sequence=7).cache_key, "old page")
    assert cache.get(reply(sequence=7).cache_key) == "old page"
    cache.keep(reply(sequence=8, lang="en").cache_key, "new page")
    assert cache.get(reply(sequence=7).cache_key) is None and len(cache) == 1


def test_a_late_page_for_the_old_snapshot_is_not_kept():
    cache = AnswerCache()
    cache.keep(reply(sequence=8).cache_key, "new page")
    cache.keep(reply(sequence=7, lang="en").cache_key, "late old page")
    assert cache.get(reply(sequence=7, lang="en").cache_key) is None
    assert cache.get(reply(sequence=8).cache_key) == "new page"


def test_bounded_oldest_first_out():
    cache = AnswerCache(limit=2)
    keys = [reply(day=date(2020, 7, d)).cache_key for d in (1, 2, 3)]
    for n, key in enumerate(keys):
        cache.keep(key, n)
    assert cache.get(keys[0]) is None and cache.get(keys[1]) == 1 and cache.get(keys[2]) == 2
