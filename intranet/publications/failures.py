"""A failed delivery told the way staff can act on it.

The transfer job records the transport's own reason (``transfer/sftp.py``,
``transfer/transports.py``: "host key changed: …", "TimeoutError: …", "PermissionError: …").
Staff read instead what happened, what residents see meanwhile and what to do next; the
recorded reason stays underneath as the technical detail for whoever fixes it.
Messages are message ids (Japanese), translated where they are shown.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    what: str   # what happened
    todo: str   # what to do, whom to call
    alarm: bool = False  # possibly an attack: the security officer must hear of it
    # The next run of the transfer job sends the same publication again by itself
    # (intranet.publications.catchup); False: only a new publication can reach the host.
    retried: bool = True


# First match wins: the transport's reason, read case-insensitively.
RULES = [
    # A re-delivery the pusher would not send (transfer.push): the reason quotes the
    # verifier's, which the rules below would otherwise match.
    (r"^not sent again: SnapshotExpired", Failure(
        "届いていなかった公開先へ同じ内容を送り直そうとしましたが、その内容の有効期限が"
        "切れていたため、送りませんでした。",
        "「公開」画面から、もう一度公開を依頼してください。新しい公開は、すべての公開先へ"
        "送られます。", retried=False)),
    (r"^not sent again", Failure(
        "届いていなかった公開先へ同じ内容を送り直す前の確認（署名の検証）で食い違いが"
        "あったため、送りませんでした。",
        "署名鍵を入れ替えた直後であれば、「公開」画面から新しく公開を依頼してください。"
        "心当たりがなければ、セキュリティ担当に連絡してください。", alarm=True, retried=False)),
    # The publication's own steps (builder → signer → pusher → recorder) come first: their
    # reasons quote the transport's, which the rules below would otherwise match.
    (r"declared an SSH packet of|answered with an SFTP packet of", Failure(
        "公開サーバーが、通常ありえない大きさのデータを送ってきたため、接続を切りました。"
        "ファイルは置いていません。",
        "公開サーバーが乗っ取られている恐れがあります。セキュリティ担当にすぐ連絡してください。",
        alarm=True)),
    (r"the pusher refused the signed file|the pusher reported a file of another content"
     r"|the pusher's report was refused", Failure(
        "送る前の確認（署名の検証）か、送った後の報告の確認で食い違いがあったため、"
        "公開済みにしていません。",
        "署名済みファイルか転送係の報告が書き換えられた恐れがあります。セキュリティ担当に"
        "連絡してください。", alarm=True)),
    (r"no report from the pusher", Failure(
        "署名または転送の手順が最後まで終わりませんでした。ファイルは送っていません。",
        "情報システム担当に、shinsei-transfer-sign と shinsei-transfer-push の記録"
        "（journalctl）を確認してもらってください。")),
    (r"^host key changed", Failure(
        "公開サーバーの本人確認用の鍵（ホスト鍵）が、登録してある鍵と違っていました。"
        "なりすましの恐れがあるため、ファイルは送っていません。",
        "公開サーバーを入れ替えたり作り直したりした予定があるか、情報システム担当に確認して"
        "ください。予定がなければ、セキュリティ担当にすぐ連絡してください。"
        "確認が取れるまで、登録してある鍵を変えないでください。", alarm=True)),
    (r"host key of .* is not pinned|not pinned", Failure(
        "公開サーバーの本人確認用の鍵（ホスト鍵）が登録されていないため、接続を止めました。"
        "ファイルは送っていません。",
        "新しく用意した公開サーバーであれば、情報システム担当が鍵を確かめてから登録してください。"
        "心当たりがなければ、セキュリティ担当に連絡してください。", alarm=True)),
    (r"^authentication refused|authentication failed", Failure(
        "公開サーバーが、転送用アカウントでのログインを拒否しました。",
        "公開サーバーの転送用アカウントと鍵の設定を、情報システム担当に確認してもらってください。")),
    (r"timed? ?out|timeouterror|socket\.timeout", Failure(
        "公開サーバーから時間内に応答がありませんでした。",
        "回線、ファイアウォール、公開サーバーが動いているかを、情報システム担当に確認して"
        "もらってください。")),
    (r"connection refused|no route to host|network is unreachable|novalidconnections"
     r"|name or service not known|gaierror|temporary failure in name resolution"
     r"|connection reset|eoferror|unable to connect", Failure(
         "公開サーバーに接続できませんでした（サーバーの停止、回線やファイアウォールの問題など）。",
         "公開サーバーが動いているか、回線がつながっているかを、情報システム担当に確認して"
         "もらってください。")),
    (r"size mismatch", Failure(
        "ファイルが途中までしか届きませんでした。公開サーバーは不完全なファイルを使いません。",
        "公開サーバーの空き容量と回線を、情報システム担当に確認してもらってください。")),
    (r"permission|errno 13", Failure(
        "受け渡し用のフォルダーに書き込む権限がありませんでした。",
        "フォルダーの権限（転送ジョブの利用者が書き込めるか）を、情報システム担当に確認して"
        "もらってください。")),
    (r"no space left|errno 28|disk quota", Failure(
        "書き込み先の空き容量が足りませんでした。",
        "書き込み先の空き容量を、情報システム担当に確認してもらってください。")),
    (r"no such file|filenotfound|errno 2\b", Failure(
        "書き込み先のフォルダーが見つかりませんでした。",
        "転送先の設定（フォルダーの場所）を、情報システム担当に確認してもらってください。")),
    (r"not approved by a second person", Failure(
        "依頼した本人が承認していたため、公開しませんでした（二者承認の設定です）。",
        "別の監督者に承認してもらってください。")),
    (r"older than publication", Failure(
        "この依頼より後に出された公開依頼がすでに公開されているため、古い内容では公開しませんでした。",
        "「公開」画面から公開を依頼し直し、承認を受けてください。")),
    (r"approval does not name|no longer reproduce the approved digest", Failure(
        "承認された内容と、公開しようとした内容が一致しなかったため、公開しませんでした。",
        "「公開」画面から公開を依頼し直し、承認を受けてください。繰り返す場合は、"
        "セキュリティ担当に連絡してください。", alarm=True)),
]
UNKNOWN = Failure("公開用ファイルを転送できませんでした（原因を特定できない誤りです）。",
                  "情報システム担当（公開サーバーの管理者）に連絡し、下の「技術的な詳細」を"
                  "伝えてください。")
_COMPILED = [(re.compile(pattern, re.IGNORECASE), failure) for pattern, failure in RULES]


def explain(reason: str) -> Failure:
    """What a recorded delivery reason means for staff."""
    for pattern, failure in _COMPILED:
        if pattern.search(reason or ""):
            return failure
    return UNKNOWN
