"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106), and the policy.

The policy is NIST SP 800-63B's: at least 12 characters, not a known common password, not
the account's own name — and no composition rules (they make passwords worse, not better).
"""

import secrets
import unicodedata
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_LENGTH = 12

# One-time passwords: no look-alike characters (0/O, 1/l/I), easy to read out or type.
_OTP_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
OTP_LENGTH = 16
# A one-time password made by two people (intranet.users.requests): two halves of this
# length (~58 bits each), each known to one of them; the holder types both, in order.
HALF_LENGTH = 10
# The stored form of such a password: the two halves' hashes. No argon2 hash holds "|".
_SPLIT = "split:"


class WeakPassword(ValueError):
    """The password does not meet the policy; ``reason`` is too_short, common or name."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def hash_password(password: str, username: str = "") -> str:
    check_strength(password, username)
    return _hasher.hash(password)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@cache
def common_passwords() -> frozenset[str]:
    text = files("intranet.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_strength(password: str, username: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword("too_short")
    folded = _fold(password)
    if folded in common_passwords() or len(set(folded)) == 1:
        raise WeakPassword("common")
    if username and _fold(username) in folded:
        raise WeakPassword("name")


def one_time_password(length: int = OTP_LENGTH) -> str:
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(length))


def one_time_half() -> str:
    return one_time_password(HALF_LENGTH)


def split_hash(first_half_hash: str, second_half: str) -> str:
    """The stored form of a two-person one-time password: neither half alone opens it."""
    return f"{_SPLIT}{first_half_hash}|{hash_checked(second_half)}"


def _verify_split(password_hash: str, password: str) -> bool:
    first, second = password_hash.removeprefix(_SPLIT).split("|", 1)
    # The holder may type a space between the halves as they were handed over.
    typed = "".join(password.split())
    first_ok = verify(first, typed[:HALF_LENGTH])
    second_ok = verify(second, typed[HALF_LENGTH:])   # both checked: no timing shortcut
    return len(typed) == 2 * HALF_LENGTH and first_ok and second_ok


def hash_checked(password: str) -> str:
    """Hash a password that needs no policy check: generated here, or already accepted."""
    return _hasher.hash(password)


@cache
def dummy_hash() -> str:
    """Verified when the username is unknown, so that a wrong username costs as long as a
    wrong password and timing does not reveal which accounts exist. Made once per process,
    when the staff app starts (``intranet.auth``): not at import, which every command pays
    (~0.15 s: an argon2 hash), and not at the first unknown name, which would time it."""
    return _hasher.hash("no such account: timing equaliser")


def verify(password_hash: str | None, password: str) -> bool:
    if password_hash is not None and password_hash.startswith(_SPLIT):
        return _verify_split(password_hash, password)
    try:
        return _hasher.verify(password_hash or dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    if password_hash.startswith(_SPLIT):
        return False  # replaced by the holder's own at first sign-in
    return _hasher.check_needs_rehash(password_hash)
