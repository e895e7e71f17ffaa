"""Reading the officer's search: dates as staff write them, a receipt number as the import
reads it, and which audit records are about an application.

A date the form cannot read, an end before the start or a receipt number that cannot be one
is refused naming the field and what to type (a 400 page, or the form again with the
message): never a silent "no filter".
"""

from datetime import date

from sqlalchemy import and_, false, select

from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.dates import DateError, parse_date
from intranet.imports.models import ImportRecord
from intranet.web import BadInput
from transfer.receipt import InvalidReceiptNumber, parse_receipt_number

FIELDS = {"from": "日付（から）", "to": "日付（まで）", "receipt": "受付番号"}
EXAMPLES = "2026-12-06、2026/12/6、2026年12月6日、令和8年12月6日、R8.12.6"
WHY = {
    "format": "「${field}」の「${value}」は日付として読めません。${examples} のように入力してください。",
    "impossible": "「${field}」の「${value}」はありえない日付です（その月にない日など）。",
    "era": "「${field}」の「${value}」は、その元号の期間にない日付です。",
}
BACKWARDS = "「日付（から）」（${start}）が「日付（まで）」（${end}）より後になっています。"
NOT_A_RECEIPT = ("「受付番号」の「${value}」は受付番号として読めません（英数字 4〜32 文字。"
                 "ハイフン・空白・全角の数字はそのまま入力できます）。")


class FilterRefused(BadInput):
    """A search field that cannot be read; ``field`` names it."""

    def __init__(self, field: str, message: str, **mapping):
        super().__init__(message, **mapping)
        self.field = field

    def explain(self, request) -> str:
        return request.translate(self.message, **{
            **self.mapping, "field": request.translate(FIELDS[self.field])})


def day(text: str | None, field: str) -> date | None:
    """A Japan date as staff write it (西暦 or 和暦, any width); None when left empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except DateError as error:
        reason = str(error) if str(error) in WHY else "format"
        raise FilterRefused(field, WHY[reason], value=text[:40], examples=EXAMPLES) from None


def in_order(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise FilterRefused("from", BACKWARDS, start=start.isoformat(), end=end.isoformat())


def receipt(text: str | None) -> str:
    """The receipt number in its one normalised form ("" when left empty)."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        return parse_receipt_number(text)
    except InvalidReceiptNumber:
        raise FilterRefused("receipt", NOT_A_RECEIPT, value=text[:40]) from None


def applications_numbered(dbsession, normalised: str) -> list[int]:
    """Every application holding this receipt number, in any programme (an erased one holds
    none: disposal replaced it)."""
    return list(dbsession.execute(select(Application.id).where(
        Application.receipt_number_normalised == normalised).order_by(Application.id)).scalars())


def about_applications(dbsession, ids: list[int]):
    """The condition on audit records about these applications: those keeping a value of
    theirs beside the chain (a change, a bulk change, an import's move, the desk's view or
    search), a disclosure naming one, and the imports that created or changed one (found
    from its history: an import writes its record and history with one timestamp).

    The record numbers are read first, each through its own index (an application has tens
    of records, not millions), so the screen's query is a lookup by number: an OR of these
    conditions would have PostgreSQL walk the whole chain back from its head."""
    if not ids:
        return false()
    seqs = set(dbsession.execute(select(AuditPersonal.seq).where(
        AuditPersonal.application_id.in_(ids))).scalars())
    targets = [f"application:{i}" for i in ids]
    targets += [f"import:{i}" for i in dbsession.execute(
        select(ImportRecord.id).join(Application, and_(
            Application.programme_id == ImportRecord.programme_id, Application.id.in_(ids)))
        .where(ImportRecord.at.in_(select(StatusChange.changed_at).where(
            StatusChange.application_id.in_(ids), StatusChange.source == "import")))).scalars()]
    seqs.update(dbsession.execute(select(AuditRecord.seq).where(
        AuditRecord.action.in_(("disclosure.produce", "import.apply")),
        AuditRecord.target.in_(targets))).scalars())
    return AuditRecord.seq.in_(sorted(seqs)) if seqs else false()


def receipts_of(dbsession, records) -> dict[int, str]:
    """{application id: receipt number as printed} for the records' application targets;
    "" for an erased one."""
    ids = {int(r.target.partition(":")[2]) for r in records
           if r.target.startswith("application:") and r.target.partition(":")[2].isdigit()}
    if not ids:
        return {}
    rows = dbsession.execute(select(Application.id, Application.receipt_number,
                                    Application.receipt_number_normalised)
                             .where(Application.id.in_(ids))).all()
    return {i: "" if normalised.startswith("-") else (printed or normalised)
            for i, printed, normalised in rows}
