"""The password policy (NIST SP 800-63B): length and the shipped common-password list."""

import pytest

from intranet.auth import passwords


@pytest.mark.parametrize("candidate", ["password1234", "PASSWORD1234", "ｐａｓｓｗｏｒｄ１２３４",
                                       "qwerty123456", "1qaz2wsx3edc", "administrator",
                                       "zzzzzzzzzzzzzzzz"])
def test_common_passwords_are_refused_whatever_their_width_or_case(candidate):
    with pytest.raises(passwords.WeakPassword) as refused:
        passwords.check_strength(candidate)
    assert refused.value.reason == "common"


def test_length_and_own_name():
    with pytest.raises(passwords.WeakPassword, match="too_short"):
        passwords.check_strength("elevenchars")
    with pytest.raises(passwords.WeakPassword, match="name"):
        passwords.check_strength("tanaka-ichiro-2026", "Tanaka")


def test_no_composition_rules():
    passwords.check_strength("きょうはいいてんきですね")   # twelve kana, no digits or symbols
    passwords.check_strength("correct horse battery staple")


def test_the_list_ships_with_the_package_and_only_holds_what_length_would_not_catch():
    common = passwords.common_passwords()
    assert len(common) > 300
    assert min(len(entry) for entry in common) >= passwords.MIN_LENGTH


def test_one_time_passwords_are_long_random_and_unambiguous():
    drawn = {passwords.one_time_password() for _ in range(50)}
    assert len(drawn) == 50
    assert all(len(p) == passwords.OTP_LENGTH and not set(p) & set("0O1lI") for p in drawn)


def test_a_two_person_one_time_password_opens_only_with_both_halves_in_order():
    first, second = passwords.one_time_half(), passwords.one_time_half()
    assert len(first) == len(second) == passwords.HALF_LENGTH
    stored = passwords.split_hash(passwords.hash_checked(first), second)
    assert passwords.verify(stored, first + second)
    assert passwords.verify(stored, f" {first}  {second}\n")   # spaces as handed over
    for wrong in (first, second, second + first, first + second + "x", first + second[:-1],
                  "", first + first):
        assert not passwords.verify(stored, wrong), wrong
    assert not passwords.needs_rehash(stored)
