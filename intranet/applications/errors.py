"""Why a status change cannot be made. Messages are Japanese message ids (see intranet.i18n)."""


class StatusChangeRefused(Exception):
    """A change that must not happen; ``message`` and ``mapping`` are shown to the user."""

    def __init__(self, message: str, **mapping):
        super().__init__(message)
        self.message = message
        self.mapping = mapping


STALE = ("この申請は他の職員によって更新されました。最新の内容を確認してから、"
         "もう一度操作してください。")
TRANSITION = "「${from_label}」から「${to_label}」へは変更できません。"
NEEDS_SCHEDULED_DATE = "「${to_label}」にするには振込予定日が必要です。"
NEEDS_PAID_DATE = "「${to_label}」にするには振込日が必要です。"
NEEDS_REASON = "「${to_label}」にするには不備の内容が必要です。"
UNKNOWN_STATUS = "状況「${code}」はありません。"
BULK_STALE = ("プレビューの後に対象の申請が更新されました。何も変更していません。"
              "もう一度プレビューしてから確定してください。")
