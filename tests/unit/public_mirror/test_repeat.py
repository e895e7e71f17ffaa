"""The proof that a language switch asks again what an address was already told."""

from datetime import date

from lab.clock import HandClock
from public_mirror.lookup import Question
from public_mirror.repeat import Repeats

P2020 = {"code": "p2020", "needs_birth_date": False}
P2024 = {"code": "p2024", "needs_birth_date": True}
ASKED = Question(P2024, "00000001", date(1980, 4, 1))


def repeats(clock=None, secret=b"k" * 32):
    return Repeats(secret, 300, clock=clock or HandClock())


def test_the_proof_holds_for_the_same_question_from_the_same_address():
    made = repeats()
    proof = made.proof("198.51.100.7", ASKED)
    assert made.proves(proof, "198.51.100.7", ASKED)
    assert "00000001" not in proof and "1980" not in proof


def test_another_question_address_or_key_is_not_proved():
    made = repeats()
    proof = made.proof("198.51.100.7", ASKED)
    assert not made.proves(proof, "198.51.100.8", ASKED)
    for other in (Question(P2024, "00000002", date(1980, 4, 1)),
                  Question(P2024, "00000001", date(1980, 4, 2)),
                  Question(P2020, "00000001", None)):
        assert not made.proves(proof, "198.51.100.7", other)
    assert not repeats(secret=b"o" * 32).proves(proof, "198.51.100.7", ASKED)
    for forged in ("", None, "0" * 32, proof[:-1], proof.upper() + "0", "é" * 32, proof + "\n",
                   proof[:-1] + "\x00", "\ud800" * 32):
        assert not made.proves(forged, "198.51.100.7", ASKED)


def test_one_ipv6_budget_is_one_address_for_the_proof_too():
    made = repeats()
    proof = made.proof("2001:db8:1:2::10", ASKED)
    assert made.proves(proof, "2001:db8:1:2::99", ASKED)
    assert not made.proves(proof, "2001:db8:1:3::10", ASKED)


def test_the_proof_lasts_its_rate_window_and_the_next_then_expires():
    clock = HandClock()
    clock.now = 1_000_200.0   # 300 s windows: this one began at 1_000_200
    made = repeats(clock)
    proof = made.proof("198.51.100.7", ASKED)
    clock.now += 599
    assert made.proves(proof, "198.51.100.7", ASKED)
    clock.now += 1
    assert not made.proves(proof, "198.51.100.7", ASKED)
