"""Why a status change cannot be made. Messages are Japanese message ids (see intranet.i18n).

The catalogue's rules (moves, required dates and reason) and their messages live in
``intranet.statuses.rules``; what is left here is about concurrent edits.
"""

from intranet.statuses.rules import StatusChangeRefused

__all__ = ["BULK_STALE", "STALE", "StatusChangeRefused"]

STALE = ("この申請は他の職員によって更新されました。最新の内容を確認してから、"
         "もう一度操作してください。")
BULK_STALE = ("プレビューの後に対象の申請が更新されました。何も変更していません。"
              "もう一度プレビューしてから確定してください。")
