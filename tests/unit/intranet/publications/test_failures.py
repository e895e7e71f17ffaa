"""Each way a delivery fails, as the transports record it, read as staff can act on it."""

import paramiko
import pytest

from intranet.publications import failures
from transfer.sftp import UnknownHostKey


def _unknown_host_key_reason():
    return str(UnknownHostKey("public-1", paramiko.RSAKey.generate(1024)))


@pytest.mark.parametrize("reason, what, alarm", [
    ("host key changed: offered SHA256:abc, pinned SHA256:def", "登録してある鍵と違っていました",
     True),
    (_unknown_host_key_reason, "登録されていないため、接続を止めました", True),
    ("authentication refused: Authentication failed.", "ログインを拒否しました", False),
    ("TimeoutError: timed out", "時間内に応答がありませんでした", False),
    ("NoValidConnectionsError: [Errno None] Unable to connect to port 22 on 192.0.2.1",
     "接続できませんでした", False),
    ("ConnectionRefusedError: [Errno 111] Connection refused", "接続できませんでした", False),
    ("EOFError: ", "接続できませんでした", False),
    ("OSError: size mismatch in put!  0 != 4096", "途中までしか届きませんでした", False),
    ("PermissionError: Permission denied", "書き込む権限がありませんでした", False),
    ("OSError: No space left on device", "空き容量が足りませんでした", False),
    ("FileNotFoundError: No such file or directory", "フォルダーが見つかりませんでした", False),
    ("not approved by a second person", "依頼した本人が承認していた", False),
    ("the frozen rows no longer reproduce the approved digest", "一致しなかった", True),
    ("the host declared an SSH packet of 2147483636 bytes (at most 65536 are accepted)",
     "通常ありえない大きさ", True),
    ("the pusher reported a file of another content digest (ffff…)", "食い違い", True),
    ("no report from the pusher for sequence 7: the signer or the pusher did not finish",
     "最後まで終わりませんでした", False),
    ("RuntimeError: something new", "原因を特定できない誤り", False),
])
def test_each_failure_says_what_happened_and_what_to_do(reason, what, alarm):
    # The unknown-host text is made by the transport's own exception, from a fresh key.
    failure = failures.explain(reason() if callable(reason) else reason)
    assert what in failure.what and failure.alarm is alarm
    assert "担当" in failure.todo or "承認" in failure.todo    # whom to call, or what to ask
    assert "Error" not in failure.what + failure.todo
