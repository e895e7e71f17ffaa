"""The installer's reading of the sshd drop-in against `sshd -T` (the parts that need no
sshd: tests/integration/test_sshd_hardening.py runs the real one), and its warning when no
administrator has a key."""

from pathlib import Path

from shinsei_installer import public, sshd
from shinsei_installer.host import Host

DROP_IN = (Path(__file__).parents[3] / "deploy" / "sshd" / "00-shinsei.conf").read_text()


def test_the_drop_in_is_read_as_global_settings_and_the_upload_accounts():
    everyone, upload = sshd.stated(DROP_IN)
    assert everyone["passwordauthentication"] == ("PasswordAuthentication", "no")
    assert everyone["permitrootlogin"] == ("PermitRootLogin", "prohibit-password")
    assert "chrootdirectory" not in everyone
    assert upload["chrootdirectory"] == ("ChrootDirectory", "/srv/shinsei")
    assert upload["forcecommand"] == ("ForceCommand", "internal-sftp -u 0027")


def test_a_setting_sshd_runs_otherwise_is_named_with_what_the_file_says():
    text = "PermitRootLogin prohibit-password\nX11Forwarding no\nMatch User shinsei-upload\n" \
           "    PermitTTY no\n"
    # `sshd -T` spells prohibit-password its old way: the same setting.
    assert sshd.differences(text, {"permitrootlogin": "without-password", "x11forwarding": "no"},
                            {"permittty": "no"}) == []
    assert sshd.differences(text, {"permitrootlogin": "yes"}, {}) == [
        f"sshd: PermitRootLogin が yes です（全員; {sshd.DROP_IN} では prohibit-password）",
        f"sshd: X11Forwarding が （なし） です（全員; {sshd.DROP_IN} では no）",
        f"sshd: PermitTTY が （なし） です（shinsei-upload; {sshd.DROP_IN} では no）"]


def test_parse_effective_reads_keyword_and_value():
    assert sshd.parse_effective("forcecommand internal-sftp -u 0027\nport 22\n") == {
        "forcecommand": "internal-sftp -u 0027", "port": "22"}


def passwd(root: Path, *lines: str) -> None:
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n" + "".join(lines))


def key_file(root: Path, home: str, text: str, name: str = "authorized_keys") -> None:
    folder = root / home.lstrip("/") / ".ssh"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_no_administrator_key_is_said_and_a_key_is_found_where_sshd_looks(tmp_path):
    passwd(tmp_path, "kanri:x:1000:1000::/home/kanri:/bin/bash\n",
           "shinsei-upload:x:999:999::/srv/shinsei:/usr/sbin/nologin\n")
    note = public.AdminKeys()
    assert "管理者の公開鍵が見つかりません" in note.notes(Host(tmp_path))[0]
    assert note.differences(Host(tmp_path)) == []           # never a change to make
    key_file(tmp_path, "/srv/shinsei", "ssh-ed25519 AAAA upload\n")   # a service account
    key_file(tmp_path, "/root", "# nothing but a comment\n\n")
    assert note.notes(Host(tmp_path))
    key_file(tmp_path, "/home/kanri", "ssh-ed25519 AAAA kanri\n", "authorized_keys2")
    assert sshd.admin_keys(Host(tmp_path)) == [tmp_path / "home/kanri/.ssh/authorized_keys2"]
    assert note.notes(Host(tmp_path)) == []
