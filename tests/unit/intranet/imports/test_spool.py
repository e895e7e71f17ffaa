"""The uploads' folder between the dry run and the confirm: private, or the app says why."""

import os
import stat

import pytest

from intranet.imports.spool import Spool, SpoolRefused


def settings(folder):
    return {"imports.spool_dir": str(folder), "imports.spool_max_age": 3600}


def test_a_folder_that_existed_0755_is_made_0700(tmp_path, caplog):
    # The attack: a pre-existing 0755 folder was kept, so every account read the uploads.
    folder = tmp_path / "spool"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    Spool.from_settings(settings(folder))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert "made 0700" in caplog.text


def test_a_link_in_place_of_the_folder_is_refused_naming_it(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "spool"
    link.symlink_to(target)
    with pytest.raises(SpoolRefused, match=r"imports\.spool_dir: .*spool は、このアプリのアカウント"):
        Spool.from_settings(settings(link))


def test_another_accounts_folder_is_refused(tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)          # the tests run as root: give it to nobody
    with pytest.raises(SpoolRefused):
        Spool.from_settings(settings(folder))
