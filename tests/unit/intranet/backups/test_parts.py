"""Putting a packed tree back refuses what a set could not have written: a name or a link
that leads out of the tree, a device; setuid bits and group or other write are dropped."""

import io
import stat
import tarfile

import pytest

from intranet.backups import parts
from intranet.backups.errors import BackupError


def packed(tmp_path, *members):
    path = tmp_path / "packed.tar"
    with tarfile.open(path, "w") as archive:
        for member, data in members:
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def entry(name, kind=tarfile.REGTYPE, data=b"x", mode=0o644, link=""):
    member = tarfile.TarInfo(name)
    member.type, member.mode, member.linkname = kind, mode, link
    member.size = len(data) if kind == tarfile.REGTYPE else 0
    return member, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize("member", [
    entry("../outside"),
    entry("/etc/passwd"),
    entry("./ok/../../outside"),
    entry("./link", tarfile.SYMTYPE, link="../../etc/shadow"),
    entry("./link", tarfile.SYMTYPE, link="/etc/shadow"),
    entry("./hard", tarfile.LNKTYPE, link="../outside"),
    entry("./device", tarfile.CHRTYPE),
    entry("./fifo", tarfile.FIFOTYPE),
], ids=["dotdot", "absolute", "dotdot-inside", "symlink-out", "symlink-absolute", "hardlink-out",
        "device", "fifo"])
def test_what_leads_out_of_the_tree_is_refused_and_nothing_is_written(tmp_path, member):
    tree = tmp_path / "tree"
    with pytest.raises(BackupError, match="このセットが書くはずのないものです"):
        parts.unpack(packed(tmp_path, entry("./first"), member), tree)
    assert not (tree / "first").exists()


def test_a_tree_comes_back_with_its_modes_less_setuid_and_shared_write(tmp_path):
    tree = tmp_path / "tree"
    parts.unpack(packed(tmp_path, entry("./secret", mode=0o600), entry("./tool", mode=0o4777),
                        entry("./sub", tarfile.DIRTYPE, mode=0o750),
                        entry("./sub/link", tarfile.SYMTYPE, link="../secret")), tree)
    assert stat.S_IMODE((tree / "secret").stat().st_mode) == 0o600
    assert stat.S_IMODE((tree / "tool").stat().st_mode) == 0o755
    assert stat.S_IMODE((tree / "sub").stat().st_mode) == 0o750
    assert (tree / "sub" / "link").read_bytes() == b"x"


def test_the_same_on_debian_12s_python_which_has_no_tar_filters(tmp_path, monkeypatch):
    monkeypatch.setattr(parts, "TAR_FILTERS", False)
    tree = tmp_path / "tree"
    parts.unpack(packed(tmp_path, entry("./tool", mode=0o4755)), tree)
    assert stat.S_IMODE((tree / "tool").stat().st_mode) == 0o755
    with pytest.raises(BackupError, match="このセットが書くはずのないものです"):
        parts.unpack(packed(tmp_path, entry("../outside")), tmp_path / "other")
