"""The story in the reader's words: each step's what, who, when, from where, and what became
of it on the residents' page — translated here, so the template only lays it out.

``audit_facts`` (the security officer) adds the terminal, the audit record's number and the
steps that changed nothing (views, searches, disclosures); the other roles read the changes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from intranet.applications.models import StatusChange
from intranet.deficiencies.catalogue import KindCatalogue
from intranet.oversight import labels, terminal
from intranet.stories import events, published
from intranet.web import LABELS, format_date, local_time

FIELD_LABELS = {**LABELS["field_labels"], "deficiency_reason": "不備内容（職員用メモ・非公開）"}


@dataclass
class Shown:
    when: str
    at_iso: str
    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    who: str = ""
    where: tuple[str, str] | None = None
    record_seq: int | None = None
    publication: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    state: str = ""


@dataclass
class Reader:
    """What the page needs from the request: language, names, the kinds' names."""

    translate: Callable[..., str]
    locale: str
    statuses: dict[str, str]
    users: dict[str, tuple[str, str]]      # user name → (display name, role)
    kinds: KindCatalogue                   # the programme's 不備の種類
    audit_facts: bool

    def t(self, message, **mapping):
        return self.translate(message, **mapping)

    def time(self, value) -> str:
        return local_time(value, self.locale, seconds=True)

    def status(self, code) -> str:
        return self.statuses.get(code, code) if code else "—"


def shown(steps: list[events.Step], carriages: list, reader: Reader) -> list[Shown]:
    return [_one(step, carriage, reader) for step, carriage in zip(steps, carriages, strict=True)
            if reader.audit_facts or step.changes_public]


def _one(step: events.Step, carriage, reader: Reader) -> Shown:
    t = reader.t
    item = Shown(reader.time(step.at), step.at.isoformat() + "Z", t(events.KINDS[step.kind]),
                 who=_who(step, reader))
    if step.history is not None:
        item.lines = _change_lines(step, step.history, reader)
    else:
        item.lines = _look_lines(step, reader)
    if reader.audit_facts and step.record is not None:
        found = terminal.explain(step.record.actor_role, step.record.host, step.record.os_user)
        item.where = (t(found.where, **found.mapping), t(found.meaning, **found.mapping))
        item.record_seq = step.record.seq
    elif reader.audit_facts:
        item.where = (t("記録なし"), t("この変更の監査記録はありません（保存期間を過ぎて整理された"
                                     "記録、または記録を始める前の変更です）。"))
    if carriage is not None:
        item.state = carriage.state
        item.publication, item.hosts = _carriage(carriage, reader)
    return item


def _who(step: events.Step, reader: Reader) -> str:
    t = reader.t
    if step.record is not None:
        display, _role = reader.users.get(step.record.actor, (step.record.actor, ""))
        role = labels.ROLES.get(step.record.actor_role, "システム")
        return t("${name}（${role}）", name=display, role=t(role)) if role else display
    user = step.history.user if step.history is not None else None
    if user is None:
        return t("記録なし（システムによる登録）")
    return t("${name}（${role}）", name=user.display_name,
             role=t(LABELS["role_labels"].get(user.role, user.role)))


def _change_lines(step: events.Step, entry: StatusChange,
                  reader: Reader) -> list[tuple[str, str]]:
    t = reader.t
    lines = []
    if entry.from_code is None or entry.from_code != entry.to_code:
        move = f"{reader.status(entry.from_code)} → {reader.status(entry.to_code)}" \
            if entry.from_code else reader.status(entry.to_code)
        lines.append((t(FIELD_LABELS["status"]), move))
    for key, day in (("scheduled_payment_on", entry.scheduled_payment_on),
                     ("paid_on", entry.paid_on)):
        if day:
            lines.append((t(FIELD_LABELS[key]), format_date(day, reader.locale)))
    for key, before, after in events.detail_changes(step):
        lines.append((t(FIELD_LABELS.get(key, key)),
                      f"{_field(key, before, reader)} → {_field(key, after, reader)}"))
    if step.kind == "bulk" and step.record is not None:
        changed = events.details(step.record).get("changed")
        if changed:
            lines.append((t("一括変更"), t("この申請を含む ${n} 件を一度に変更", n=f"{changed:,}")))
    if step.import_record is not None:
        lines.extend(_import_lines(step.import_record, reader))
    if entry.reason and step.import_record is None:
        lines.append((t("理由・メモ"), entry.reason))
    return lines


def _field(key, value, reader: Reader) -> str:
    if value in (None, ""):
        return "—"
    if key == "deficiency_kinds" and isinstance(value, int):
        return "、".join(reader.kinds.names(value)) or reader.t("なし")
    if hasattr(value, "isoformat"):
        return format_date(value, reader.locale)
    return str(value)


def _import_lines(record, reader: Reader) -> list[tuple[str, str]]:
    t = reader.t
    name = record.filename or t("（廃棄済み）")
    return [(t("ファイル"), name),
            (t("取込の内容"), t("${rows} 行（新規 ${created} 件、変更 ${changed} 件、"
                              "変更なし ${unchanged} 件）", rows=f"{record.rows:,}",
                              created=f"{record.created:,}", changed=f"{record.changed:,}",
                              unchanged=f"{record.unchanged:,}"))]


def _look_lines(step: events.Step, reader: Reader) -> list[tuple[str, str]]:
    t = reader.t
    details = events.details(step.record)
    lines = []
    if details.get("page") == "story":
        lines.append((t("画面"), t("申請の経緯")))
    if details.get("filters"):
        asked = "、".join(t(labels.CODES["filters"].get(k, k)) for k in details["filters"])
        lines.append((t("使った条件"), asked))
    if details.get("format"):
        lines.append((t("形式"), t(labels.CODES["format"].get(details["format"],
                                                              details["format"]))))
    return lines


def _carriage(carriage: published.Carriage, reader: Reader) -> tuple[list[str], list[str]]:
    """(what became of it on the residents' page, each public host's arrival)."""
    t = reader.t
    if carriage.state == published.LOOKUP_ENDED:
        return [t("事業の照会が終了したため、住民向けページには載りません。")], []
    if carriage.state == published.REPLACED:
        return [t("公開される前に次の変更（${at}）があったため、この内容は住民向けページに"
                  "載っていません。", at=reader.time(carriage.replaced_at))], []
    p = carriage.publication
    if carriage.state == published.NEXT or p is None:
        return [t("まだ公開されていません。次回の公開で住民向けページに反映されます。")], []
    if carriage.state == published.PENDING_REQUEST:
        state = t(LABELS["publication_states"][p.state])
        return [t("公開依頼 ${id} 番（${state}）に含まれています。公開されると住民向けページに"
                  "反映されます。", id=p.id, state=state)], []
    lines = [t("公開依頼 ${id} 番（公開用ファイルの通し番号 ${sequence}）で初めて公開されました。",
               id=p.id, sequence=p.sequence)]
    if p.approved_by is not None:
        lines.append(t("承認: ${name}（${at}）", name=p.approved_by.display_name,
                       at=reader.time(p.approved_at)))
    else:
        lines.append(t("承認: 記録なし"))
    return lines, [_arrival(host, reader) for host in carriage.hosts]


def _arrival(host: published.HostArrival, reader: Reader) -> str:
    t = reader.t
    if host.delivered is not None:
        again = t("（届いていなかったため送り直し）") if host.delivered.redelivery else ""
        return t("${destination}: ${at} に届きました${again}", destination=host.destination,
                 at=reader.time(host.delivered.at), again=again)
    when = reader.time(host.failed.at) if host.failed else "—"
    return t("${destination}: まだ届いていません（${at} の転送に失敗。次の転送で届きます）",
             destination=host.destination, at=when)
