"""An application's story: every step of its history joined with the audit record that
witnessed it, and the records about it that changed nothing (the desk's views and
searches, a disclosure), oldest first.

The history (``status_changes``) says what moved; the audit record says who acted, in which
role and from which terminal. They are written in one transaction, so a history entry's
record is the first record of its kind after it and before the application's next change
(an import's, the one with its exact timestamp). A record pruned by retention leaves its
history entry without a witness: it is shown, said so.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.imports.models import ImportRecord
from intranet.oversight import filters

# The record that witnesses a history entry, by the entry's source.
WITNESS = {"manual": ("application.status", "application.action_details"),
           "bulk": ("application.bulk_status",), "import": ("import.apply",)}
# Records about the application that change nothing residents read: audit facts only.
LOOKS = ("application.view", "application.search", "application.search_throttled",
         "disclosure.produce")
# What each kind of step is called on the page (message ids).
KINDS = {"manual": "状況の変更（個別）", "action": "不備の種類・返送期限の変更",
         "bulk": "状況の一括変更", "import": "取込", "import_new": "取込による登録",
         "create": "登録", "application.view": "閲覧（問い合わせ対応）",
         "application.search": "検索結果に表示（問い合わせ対応）",
         "application.search_throttled": "検索の一時停止（問い合わせ対応）",
         "disclosure.produce": "開示資料の作成"}


@dataclass
class Step:
    """One step of the story. ``history``: the entry, for a change; ``record``: its witness
    (None when retention pruned it, or for a change made before records were kept)."""

    at: datetime
    kind: str
    history: StatusChange | None = None
    record: AuditRecord | None = None
    # The application's values kept beside the record (before/after, reason), if any.
    beside: Mapping = field(default_factory=dict)
    import_record: ImportRecord | None = None

    @property
    def changes_public(self) -> bool:
        """A step residents may read the result of (a status or its action details)."""
        return self.history is not None


def collect(dbsession, application: Application) -> list[Step]:
    """Every step of the application's story, oldest first."""
    history = list(dbsession.execute(select(StatusChange).where(
        StatusChange.application_id == application.id).order_by(StatusChange.id)).scalars())
    records = list(dbsession.execute(select(AuditRecord).where(
        filters.about_applications(dbsession, [application.id])).order_by(AuditRecord.seq))
        .scalars())
    beside = {row.seq: json.loads(row.value) for row in dbsession.execute(
        select(AuditPersonal).where(AuditPersonal.application_id == application.id)).scalars()}
    imports = _imports(dbsession, application, history)
    used: set[int] = set()
    steps = []
    for n, entry in enumerate(history):
        until = history[n + 1].changed_at if n + 1 < len(history) else None
        record = _witness(entry, records, used, until, imports)
        if record is not None:
            used.add(record.seq)
        steps.append(Step(entry.changed_at, _kind(entry, record), entry, record,
                          beside.get(record.seq, {}) if record else {},
                          imports.get(entry.changed_at) if entry.source == "import" else None))
    steps += [Step(r.at, r.action, record=r, beside=beside.get(r.seq, {}))
              for r in records if r.seq not in used and r.action in LOOKS]
    return sorted(steps, key=lambda s: (s.at, s.record.seq if s.record else 0))


def _imports(dbsession, application, history) -> dict[datetime, ImportRecord]:
    """The imports that wrote the application's history, by their one timestamp."""
    times = [h.changed_at for h in history if h.source == "import"]
    if not times:
        return {}
    return {r.at: r for r in dbsession.execute(select(ImportRecord).where(
        ImportRecord.programme_id == application.programme_id,
        ImportRecord.at.in_(times))).scalars()}


def _witness(entry, records, used, until, imports) -> AuditRecord | None:
    actions = WITNESS.get(entry.source, ())
    if entry.source == "import":
        found = imports.get(entry.changed_at)
        target = f"import:{found.id}" if found else None
        return next((r for r in records if r.target == target and r.action in actions), None)
    for record in records:
        if (record.seq not in used and record.action in actions
                and record.at >= entry.changed_at and (until is None or record.at < until)
                and _moves_to(record) in (None, entry.to_code)):
            return record
    return None


def details(record: AuditRecord | None) -> dict:
    """The record's details as stored (JSON written by the one writer)."""
    return json.loads(record.details or "{}") if record is not None else {}


def _moves_to(record: AuditRecord) -> str | None:
    found = details(record)
    return found.get("status_after") or found.get("status") or found.get("to")


def _kind(entry: StatusChange, record: AuditRecord | None) -> str:
    if entry.source == "manual":
        same = entry.from_code == entry.to_code
        return "action" if same or (record and record.action.endswith("action_details")) \
            else "manual"
    if entry.source == "import":
        return "import_new" if entry.from_code is None else "import"
    return entry.source if entry.source in KINDS else "manual"


def detail_changes(step: Step) -> list[tuple[str, object, object]]:
    """(field, before, after) of what a single change altered besides the status, from the
    values kept beside its record; dates as dates."""
    before, after = step.beside.get("before") or {}, step.beside.get("after") or {}
    return [(key, _value(before.get(key)), _value(value)) for key, value in after.items()
            if key != "status" and before.get(key) != value]


def _value(value):
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value
