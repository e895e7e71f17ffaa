"""Key files: generated private, refused when others can read them."""

import pytest

from transfer.errors import KeyFileError
from transfer.keys import (
    generate_lookup_key,
    generate_signing_key,
    load_lookup_key,
    load_public_key,
    load_signing_key,
)


def test_signing_key_round_trip(tmp_path):
    key = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    assert (tmp_path / "sign.key").stat().st_mode & 0o077 == 0
    assert load_signing_key(tmp_path / "sign.key").key_id == key.key_id
    public = load_public_key(tmp_path / "sign.key.pub")
    public.verify(key.sign(b"m"), b"m")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_private_key_readable_by_others_is_refused(tmp_path, mode):
    generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    (tmp_path / "sign.key").chmod(mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_signing_key(tmp_path / "sign.key")


def test_lookup_key_round_trip_and_permissions(tmp_path):
    secret = generate_lookup_key(tmp_path / "lookup.key")
    assert load_lookup_key(tmp_path / "lookup.key") == secret
    (tmp_path / "lookup.key").chmod(0o644)
    with pytest.raises(KeyFileError):
        load_lookup_key(tmp_path / "lookup.key")


def test_keys_are_never_overwritten(tmp_path):
    generate_lookup_key(tmp_path / "lookup.key")
    with pytest.raises(KeyFileError, match="exists"):
        generate_lookup_key(tmp_path / "lookup.key")


def test_a_public_key_is_not_a_private_key(tmp_path):
    generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    (tmp_path / "sign.key.pub").chmod(0o600)
    with pytest.raises(KeyFileError):
        load_signing_key(tmp_path / "sign.key.pub")
