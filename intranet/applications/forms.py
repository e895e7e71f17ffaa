"""Reading status-change forms: what was asked, or which field is wrong."""

from datetime import date

from intranet import plausible_dates
from intranet.applications.services import StatusUpdate
from intranet.refusals import Refused

_FIELD_ERROR = "日付の形式が正しくありません（例: 2020-06-01）。"


class FormError(Refused):
    """A form field that cannot be read; ``field`` names it."""

    def __init__(self, field: str, message: str, **mapping: object) -> None:
        super().__init__(message, **mapping)
        self.field = field


def read_status_update(params) -> StatusUpdate:
    return StatusUpdate(
        to_code=params.get("status", ""),
        reason=params.get("reason", "").strip()[:2000],
        scheduled_payment_on=_date(params, "scheduled_payment_on"),
        paid_on=_date(params, "paid_on"),
        deficiency_reason=params.get("deficiency_reason", "").strip()[:2000],
    )


def read_version(params) -> int:
    try:
        return int(params.get("version", ""))
    except ValueError:
        raise FormError("version", "フォームが正しくありません。ページを再読み込みしてください。") from None


def _date(params, name):
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return plausible_dates.check(name, date.fromisoformat(text))
    except plausible_dates.ImplausibleDate as error:
        raise FormError(name, plausible_dates.MESSAGE, **error.mapping) from None
    except ValueError:
        raise FormError(name, _FIELD_ERROR) from None
