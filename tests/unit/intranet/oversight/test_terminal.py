"""What a recorded 端末 means, for each kind of actor that writes records."""

import pytest

from intranet.oversight.terminal import explain


def _words(found):
    return (found.where.replace("${host}", found.mapping["host"])
            .replace("${os_user}", found.mapping["os_user"]),
            found.meaning.replace("${os_user}", found.mapping["os_user"]))


@pytest.mark.parametrize("role, host, os_user, where, means", [
    ("cli", "intranet-1", "root", "サーバー上のコマンド（intranet-1、root）", "管理者"),
    ("cli", "intranet-1", "tanaka", "サーバー上のコマンド（intranet-1、tanaka）", "「tanaka」"),
    ("transfer", "intranet-1", "shinsei-transfer", "転送ジョブ（intranet-1）", "shinsei-transfer"),
    ("staff", "10.20.30.41", "shinsei", "職員の端末（10.20.30.41）", "操作した人を表しません"),
    ("supervisor", "2001:db8::5", "shinsei", "職員の端末（2001:db8::5）", "IP アドレス"),
    ("staff", "127.0.0.1", "shinsei", "サーバー自身（127.0.0.1）", "サーバー上で開いたブラウザー"),
    ("staff", "::1", "shinsei", "サーバー自身（::1）", "職員の端末ではありません"),
    ("staff", "", "shinsei", "記録なし", "記録されていません"),
    ("", "pc-0042", "", "pc-0042", "端末名"),
])
def test_each_recorded_terminal_says_what_it_means(role, host, os_user, where, means):
    shown, meaning = _words(explain(role, host, os_user))
    assert shown == where and means in meaning
