"""The inquiry desk's search (問い合わせ対応): answers, not an oracle (issue 25, item 3).

The desk finds an application from what a caller says and reads its status. With a receipt
number alone, the list's filters once told it the birth date one day at a time and the
phone number one digit at a time, and left no trace. Now, for this role:

- a birth date and a phone number are compared whole (search.Criteria.exact_phone), and
  only beside a name or a receipt number: alone, they would look through everyone;
- every search is an audit record: which filters it used, how many it found (in the chain),
  and the values typed kept beside the chain (``audit_personal``, as a status change keeps
  the applicant's values) on every application the search names — the receipt number's and
  those shown — so disposing of those applications erases them. A search that names no
  application keeps no values: they name nobody whose data we hold;
- trying many birth dates or phone numbers is slowed: more than SAME_APPLICATION different
  ones against one application, or more than PACE searches with either, within WINDOW,
  by one user. The desk is then told to wait, and the refusal is an audit record of its own
  (``application.search_throttled``) that the security officer's audit screen counts.

A caller gives a name (kana) and a birth date: one search, far below either limit.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from intranet.applications.models import Application
from intranet.applications.search import Criteria
from intranet.applications.search_key import phone_digits
from intranet.audit import writer
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.refusals import Refused

SEARCH = "application.search"
THROTTLED = "application.search_throttled"
WINDOW = timedelta(minutes=10)
SAME_APPLICATION = 5
PACE = 20

ALONE = "生年月日・電話番号だけでは検索できません。氏名（フリガナ）または受付番号も入力してください。"
NAME_IS_PHONE = "電話番号は「電話番号」の欄に、市外局番からすべての桁を入力してください。"
SLOWED = {
    "same_application": "同じ申請について、生年月日・電話番号を変えた検索が${limit}通りを超えたため、"
                        "この申請の検索を一時的に止めています。${minutes}分ほどたってから、"
                        "もう一度検索してください。この一時停止は監査ログに記録され、"
                        "セキュリティ管理者が確認します。",
    "pace": "生年月日・電話番号を使った検索が${minutes}分間に${limit}回を超えたため、"
            "検索を一時的に止めています。${minutes}分ほどたってから、もう一度検索してください。"
            "この一時停止は監査ログに記録され、セキュリティ管理者が確認します。",
}
_LIMITS = {"same_application": SAME_APPLICATION, "pace": PACE}


class Slowed(Refused):
    """Too many tries: the desk waits (429)."""

    def __init__(self, rule: str) -> None:
        super().__init__(SLOWED[rule], limit=_LIMITS[rule],
                         minutes=int(WINDOW.total_seconds() // 60))
        self.rule = rule


@dataclass(frozen=True)
class Asked:
    """What one desk search asked, as these rules read it."""

    filters: list[str]           # the names of the filters used (kept in the chain)
    values: dict[str, str]       # receipt, name, birth, phone as typed (beside the chain)

    @property
    def probes(self) -> bool:
        """Whether it tries a birth date or a phone number."""
        return "birth" in self.values or "phone" in self.values

    @property
    def tried(self) -> tuple[str, str]:
        return self.values.get("birth", ""), self.values.get("phone", "")


def asked(criteria: Criteria) -> Asked:
    name_phone = criteria.name_is_phone
    values = {"receipt": criteria.receipt,
              "name": "" if name_phone else criteria.name,
              "birth": criteria.birth_date.isoformat() if criteria.birth_date else "",
              "phone": criteria.phone or (phone_digits(criteria.name) if name_phone else "")}
    used = {"programme": criteria.programme_id, "status": criteria.status,
            "from": criteria.received_from, "to": criteria.received_to}
    filters = sorted([k for k, v in values.items() if v] + [k for k, v in used.items() if v])
    return Asked(filters, {k: v for k, v in values.items() if v})


def check(criteria: Criteria) -> None:
    """Refuse what would look through everyone: a birth date or phone on its own."""
    if criteria.name_is_phone and criteria.phone:
        raise Refused(NAME_IS_PHONE)
    question = asked(criteria)
    if question.probes and not ({"receipt", "name"} & question.values.keys()):
        raise Refused(ALONE)


def named(dbsession, criteria: Criteria) -> list[int]:
    """The applications the receipt number names, found or not."""
    if not criteria.receipt:
        return []
    return list(dbsession.execute(select(Application.id).where(
        Application.receipt_number_normalised == criteria.receipt)).scalars())


def slowed(dbsession, user: str, question: Asked, applications: list[int],
           now: datetime) -> str | None:
    """Which limit this search would pass ("same_application", "pace"), if any. Counted
    from the desk's own audit records within WINDOW: searches made, not refused ones, so a
    desk that waits is let through again."""
    if not question.probes:
        return None
    since = now - WINDOW
    recent = dbsession.execute(select(AuditRecord.details).where(
        AuditRecord.at >= since, AuditRecord.actor == user,
        AuditRecord.action == SEARCH)).scalars().all()
    if sum(1 for d in recent if {"birth", "phone"} & set(json.loads(d).get("filters", []))) \
            >= PACE:
        return "pace"
    if applications:
        tried = {_tried(value) for value in dbsession.execute(
            select(AuditPersonal.value).join(AuditRecord, AuditRecord.seq == AuditPersonal.seq)
            .where(AuditRecord.at >= since, AuditRecord.actor == user,
                   AuditRecord.action == SEARCH,
                   AuditPersonal.application_id.in_(applications))).scalars()}
        tried.discard(("", ""))
        if question.tried not in tried and len(tried) >= SAME_APPLICATION:
            return "same_application"
    return None


def record_search(dbsession, actor, question: Asked, applications: list[int],
                  found: int) -> None:
    writer.append(dbsession, actor, SEARCH, "applications", filters=question.filters,
                  found=found, personal=_beside(question, applications))


def record_slowed(dbsession, actor, question: Asked, applications: list[int],
                  rule: str) -> None:
    target = f"application:{applications[0]}" if len(applications) == 1 else "applications"
    writer.append(dbsession, actor, THROTTLED, target, filters=question.filters, rule=rule,
                  personal=_beside(question, applications))


def _beside(question: Asked, applications: list[int]) -> dict[int, dict]:
    return {application_id: {"filter": question.values} for application_id in applications}


def _tried(value: str) -> tuple[str, str]:
    typed = json.loads(value).get("filter", {})
    return typed.get("birth", ""), typed.get("phone", "")

