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


def test_key_files_are_files_or_every_match_in_a_folder(tmp_path):
    from transfer.keys import key_files

    folder = tmp_path / "signer"
    folder.mkdir()
    for name in ("sign.key", "sign-next.key", "sign.key.pub", "notes.txt"):
        (folder / name).write_text("x")
    alone = tmp_path / "other.key"
    assert key_files([folder, alone], ("*.key",)) == [
        folder / "sign-next.key", folder / "sign.key", alone]
    assert key_files([str(folder)], ("*.pub", "*.pem")) == [folder / "sign.key.pub"]
    assert key_files([tmp_path / "empty"], ("*.key",)) == [tmp_path / "empty"]  # a file named


def test_a_key_is_never_written_through_a_link(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "sign.key").symlink_to(target)
    with pytest.raises(KeyFileError, match="exists already"):
        generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    assert not target.exists()


@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="giving a file away needs root")
def test_keygen_gives_the_private_files_to_their_account_from_the_first_byte(tmp_path, capsys):
    import os
    import pwd

    from transfer.cli import main

    nobody = pwd.getpwnam("nobody")
    os.umask(0o022)
    assert main(["keygen", "--signing-key", str(tmp_path / "sign-next.key"),
                 "--lookup-key", str(tmp_path / "lookup-next.key"), "--owner", "nobody"]) == 0
    said = capsys.readouterr().out
    for name in ("sign-next.key", "lookup-next.key"):
        info = (tmp_path / name).stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (
            nobody.pw_uid, nobody.pw_gid, 0o600)
    public = (tmp_path / "sign-next.key.pub").stat()
    assert (public.st_uid, public.st_mode & 0o777) == (0, 0o644)
    key_id = load_signing_key(tmp_path / "sign-next.key").key_id
    assert f"key id {key_id}" in said and "key id lk-" in said
    # Never over an existing key; an unknown account changes nothing.
    assert main(["keygen", "--signing-key", str(tmp_path / "sign-next.key")]) == 1
    assert main(["keygen", "--signing-key", str(tmp_path / "x.key"), "--owner", "no-such"]) == 2
    assert not (tmp_path / "x.key").exists()
    assert main(["key-id", str(tmp_path / "sign-next.key.pub"),
                 str(tmp_path / "lookup-next.key")]) == 0
    shown = capsys.readouterr().out
    assert key_id in shown and "lk-" in shown
