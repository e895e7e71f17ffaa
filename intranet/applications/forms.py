"""Reading status-change forms: what was asked, or which field is wrong."""


from intranet import plausible_dates
from intranet.applications.services import StatusUpdate
from intranet.deficiencies.catalogue import KindCatalogue, KindRefused
from intranet.deficiencies.rules import ActionDetails
from intranet.refusals import Refused


class FormError(Refused):
    """A form field that cannot be read; ``field`` names it."""

    def __init__(self, field: str, message: str, **mapping: object) -> None:
        super().__init__(message, **mapping)
        self.field = field


def read_status_update(params, kinds: KindCatalogue | None = None, keep: int = 0) -> StatusUpdate:
    """``kinds``: the programme's 不備の種類, when the form may name them (the detail page's
    check boxes send codes, the bulk change's field names or codes: both read alike);
    ``keep``: the kinds the application has (a retired one among them may stay)."""
    return StatusUpdate(
        to_code=params.get("status", ""),
        reason=params.get("reason", "").strip()[:2000],
        scheduled_payment_on=_date(params, "scheduled_payment_on"),
        paid_on=_date(params, "paid_on"),
        deficiency_reason=params.get("deficiency_reason", "").strip()[:2000],
        action=read_action_details(params, kinds, keep),
    )


def read_action_details(params, kinds: KindCatalogue | None, keep: int = 0) -> ActionDetails:
    """不備の種類, 書類送付日 and 返送期限 as the form gives them; None for what is empty."""
    written = "\n".join(params.getall("deficiency_kinds"))
    bits = None
    if written.strip():
        if kinds is None:
            raise FormError("deficiency_kinds", "不備の種類は、事業を選んでから指定してください。")
        try:
            bits = kinds.read(written, keep)
        except KindRefused as refused:
            raise FormError("deficiency_kinds", refused.message, **refused.mapping) from None
    return ActionDetails(bits, _date(params, "documents_sent_on"), _date(params, "return_by"))


def read_version(params) -> int:
    try:
        return int(params.get("version", ""))
    except ValueError:
        raise FormError("version", "フォームが正しくありません。ページを再読み込みしてください。") from None


def _date(params, name):
    try:
        return plausible_dates.from_form(name, params.get(name))
    except plausible_dates.ImplausibleDate as error:
        raise FormError(name, plausible_dates.MESSAGE, **error.mapping) from None
    except plausible_dates.UnreadableDate:
        raise FormError(name, plausible_dates.FORMAT) from None
