"""Names shown safely, quarantine names that fit, and moves across file systems."""

import os

from public_mirror.quarantine import move_aside, quarantine_name, shown


def test_control_characters_and_undecodable_bytes_are_escaped():
    assert shown("evil\x1b[2J\x07.bin") == "evil\\x1b[2J\\x07.bin"
    assert shown(os.fsdecode(b"a\xff.bin")) == "a\\xff.bin"
    assert shown("申請.bin") == "申請.bin"
    assert shown("back\\slash") == "back\\\\slash"


def test_quarantine_names_fit_any_file_system():
    for name in ("a" * 255, "長" * 85, os.fsdecode(b"\xff" * 200), "/../x"):
        made = quarantine_name(name)
        assert len(os.fsencode(made + ".reason")) <= 255 and "/" not in made


def test_names_that_differ_only_past_the_kept_part_do_not_collide():
    assert quarantine_name("a" * 200 + "1")[27:] != quarantine_name("a" * 200 + "2")[27:]


def test_move_aside_within_one_file_system(tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"data")
    (tmp_path / "q").mkdir()
    target = move_aside(source, tmp_path / "q", "kept.bin")
    assert target.read_bytes() == b"data" and not source.exists()
