"""What an import file would do — new, changed (with before → after status), unchanged,
errors — computed without writing anything. The dry run shows it; the confirmed import
applies it only if it has no error at all."""

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, any_, bindparam, select, text
from sqlalchemy.dialects import postgresql

from intranet import characters, gaiji
from intranet.applications.models import Application
from intranet.applications.search_key import search_key
from intranet.chunks import chunked
from intranet.deficiencies import catalogue as kind_catalogue
from intranet.deficiencies import rules as action_rules
from intranet.imports import columns, problems, reading, sqlite_rows
from intranet.imports.errors import ImportRefused, RowError
from intranet.imports.pipeline import Inline
from intranet.imports.values import DATE_FIELDS, CellError, cell_reader, status_lookup
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme, all_programmes
from intranet.statuses import rules
from intranet.statuses.defaults import INITIAL_STATUS

# Rows planned (and written) together: bigger chunks mean fewer statements per file, and
# memory stays a few thousand row objects.
_CHUNK = 5000
# Columns an application row keeps as they are in the database.
_COMPARED = ("name", "kana", "birth_date", "address", "phone", "received_on", "route",
             "status", "scheduled_payment_on", "paid_on", "deficiency_reason", "notes",
             *action_rules.FIELDS)

_COMPARED_SET = frozenset(_COMPARED)
_KINDS, _SENT, _RETURN = action_rules.FIELDS    # the action details, in ActionDetails' order


@dataclass
class RowPlan:
    line: int
    receipt: str
    action: str                      # new | changed | unchanged
    values: dict
    application_id: int | None = None
    before_status: str | None = None
    # The application enters a status that needs the resident's action: its action details
    # start afresh (deficiencies.rules), so what the row leaves blank is cleared, not kept.
    new_round: bool = False
    # A changed row's stored values of the fields it changes (the dry run's before → after).
    before: dict | None = None


@dataclass
class ImportPlan:
    filename: str
    sha256: str
    encoding: str = ""
    kind: str = ""
    columns: "columns.ColumnPlan | None" = None
    # Where the header was found: its line, the non-empty lines above it (a title, a date),
    # and for a workbook the sheet read and every sheet it has.
    header_line: int = 1
    lines_before: list = field(default_factory=list)
    sheet: str = ""
    sheets: list = field(default_factory=list)
    # Each date column's first date: {title: {as written: as read}}, one per column, for
    # staff to check (the dry run's 「日付の読み取り（各列の最初の例）」).
    dates_read: dict = field(default_factory=dict)
    counts: dict = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})
    # Kept for the screen: the first changed rows and the first errors, not all of them.
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    error_count: int = 0
    # What the import does other than the file says, row by row: a stored value kept
    # because the file holds only its CP932 export's 〓 (intranet.characters).
    notices: list = field(default_factory=list)
    notice_count: int = 0
    # The same problem on many rows: counted once, with its first lines (imports.problems).
    groups: dict = field(default_factory=dict)
    # Told of every problem as it is found ("error" | "notice", the RowError): the CLI's
    # --problems file, which holds them all.
    sink: Any = None
    # The city's 外字 table (intranet.gaiji; empty: every 外字 refused) and how many 外字
    # it replaced (each also a notice).
    gaiji_table: dict = field(default_factory=dict)
    replaced_gaiji: int = 0
    # Changes flagged for staff to check: 〓 or ? where a stored character stood, or
    # characters dropped (intranet.characters.change_warning); each also a notice.
    flagged: int = 0
    # Stored values kept because the file holds their CP932 export's 〓 (each a notice).
    kept: int = 0
    # Told of every changed row as it is planned: the CLI's --changes file.
    changes_sink: Any = None
    # Existing applications whose status the file moves: a bulk change (see imports.views).
    status_moves: int = 0

    @property
    def encoding_label(self):
        return reading.ENCODING_NAMES.get(self.encoding, self.encoding)

    @property
    def unknown_columns(self):
        return self.columns.unused if self.columns else []

    def count(self, action):
        return self.counts[action]

    def add_error(self, error: RowError):
        self.error_count += 1
        if len(self.errors) < MAX_KEPT:
            self.errors.append(error)
        problems.add(self.groups, error, self.columns)
        if self.sink is not None:
            self.sink("error", error)

    @property
    def grouped(self):
        """The problems shared by several rows, the most frequent first."""
        return [g for g in problems.largest_first(self.groups) if g.count > 1]

    @property
    def ungrouped(self):
        """The kept errors that no other row shares."""
        return problems.alone(self.groups, self.errors)

    def add_notice(self, notice: RowError):
        self.notice_count += 1
        if len(self.notices) < MAX_KEPT:
            self.notices.append(notice)
        if self.sink is not None:
            self.sink("notice", notice)


MAX_KEPT = 1000


def plan_import(dbsession, catalogue, programme: Programme, data: bytes, filename: str,
                mapping: dict | None = None, progress=None, on_chunk=None,
                runner=None, sink=None, gaiji_table=None, changes_sink=None) -> ImportPlan:
    """Scan the file in chunks; ``on_chunk(rows)`` (the import itself) sees every planned row.
    ``runner`` (imports.pipeline) runs each chunk's lookups: the next chunk's are asked for
    before the current chunk is compared and written, so the import may write one chunk
    while it compares the next.

    Memory stays bounded by the chunk, not the file: a million-row file is never held as
    a million row objects.
    """
    lifecycle.ensure_writable(programme, ImportRefused)
    plan = ImportPlan(filename, hashlib.sha256(data).hexdigest(), sink=sink,
                      gaiji_table=gaiji_table or {}, changes_sink=changes_sink)
    chosen: dict = {}
    plan.encoding, rows = reading.read_rows(
        data, filename, lambda candidates: columns.header_index(candidates, mapping), chosen)
    plan.header_line, header, plan.lines_before, rows = _header(rows, mapping)
    plan.sheet, plan.sheets = chosen.get("sheet", ""), chosen.get("sheets", [])
    plan.columns = columns.map_header(header, mapping)
    if hasattr(sink, "for_columns"):
        sink.for_columns(plan.columns)
    plan.kind, fields = plan.columns.kind, list(plan.columns.fields)
    first_seen: dict[str, int] = {}
    verdicts: dict[tuple, rules.StatusChangeRefused | None] = {}  # see _new_status_problem
    details: dict[tuple, action_rules.ActionDetailsRefused | None] = {}  # _new_details_problem
    # Changed rows' verdicts: _changed_status_problem, _changed_details.
    changed_verdicts: dict[tuple, rules.StatusChangeRefused | None] = {}
    changed_details: dict[tuple, tuple] = {}
    kinds = kind_catalogue.load(dbsession, programme.id)
    runner = runner or Inline()
    remembered = (verdicts, details, changed_verdicts, changed_details)
    ahead = None
    for chunk in chunked(_parse_rows(rows, header, fields, status_lookup(catalogue), plan,
                                     progress, first_seen, kinds), _CHUNK):
        looked_up = runner.look_up(_existing, dbsession, programme,
                                   [receipt for _, receipt, _ in chunk])
        if ahead:
            _take(catalogue, programme, plan, remembered, kinds, on_chunk, *ahead)
        ahead = (chunk, looked_up)
    if ahead:
        _take(catalogue, programme, plan, remembered, kinds, on_chunk, *ahead)
    elif not plan.error_count:
        raise reading.ImportRefused("見出しの行だけで、取り込むデータがありません。")
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _take(catalogue, programme, plan, remembered, kinds, on_chunk, chunk, looked_up):
    """One chunk compared with what its lookups found, counted, and (the import) written."""
    planned = _compare(catalogue, programme, chunk, looked_up.result(), plan, remembered,
                       kinds)
    for row in planned:
        plan.counts[row.action] += 1
        if row.action == "changed" and "status" in row.values:
            plan.status_moves += 1
        if row.action == "changed":
            if len(plan.rows) < 200:
                plan.rows.append(row)
            if plan.changes_sink is not None:
                plan.changes_sink(row)
    if on_chunk and not plan.error_count:
        on_chunk(planned)


def _header(rows, mapping):
    """(its line, the header, the lines before it, the records after it): the first of the
    first lines that names the most columns — a title and a date line above it are skipped
    and said; first lines none of which names a column (a title alone, rows of values,
    anything but a list) have no header, and are refused saying so before what a header
    holds — not as a header that lacks its required columns."""
    first = list(itertools.islice(rows, columns.HEADER_SEARCH))
    if not first:
        raise reading.ImportRefused("ファイルに見出しの行がありません。")
    index, score = columns.header_index([cells for _, cells in first], mapping)
    if score == 0:
        cells = [cell for cell in first[0][1] if cell.strip()]
        raise columns.no_header(first[0][0], cells[0] if len(cells) == 1 else None)
    line, header = first[index]
    return line, header, [at for at, _ in first[:index]], itertools.chain(first[index + 1:], rows)


def _parse_rows(rows, header, fields, statuses, plan, progress, first_seen, kinds):
    receipt_column = header[fields.index("receipt_number")]
    # The cells a refusal after parsing quotes as written: status and the action details.
    quoted = [(name, fields.index(name)) for name in ("status", *action_rules.FIELDS)
              if name in fields]
    # (cell index, column title, field, its reader, is a date): only the imported columns,
    # each with a reader made once for the file (values.cell_reader).
    wanted = [(index, title, name, cell_reader(name, statuses, kinds), name in DATE_FIELDS)
              for index, (title, name) in enumerate(zip(header, fields, strict=True))
              if name is not None]
    width = len(header)
    for count, (line, cells) in enumerate(rows, 1):
        if progress and count % 10_000 == 0:
            progress(count)
        if len(cells) != width:
            plan.add_error(RowError(
                line, "", "", "列の数が見出しと合いません（見出し ${expected} 列、この行 ${actual} 列）。",
                {"expected": width, "actual": len(cells)}))
            continue
        values, ok = {}, True
        for index, title, name, read, is_date in wanted:
            raw = cells[index]
            if name == "receipt_number":
                values["receipt_printed"] = raw.strip()[:64]   # kept as printed, too
            try:
                value = values[name] = read(raw)
            except CellError as error:
                plan.add_error(RowError(line, title, raw, error.message, error.mapping))
                ok = False
                continue
            if is_date and value is not None and title not in plan.dates_read:
                plan.dates_read[title] = {raw.strip(): value}     # the column's first date
        if not ok:
            continue
        receipt = values["receipt_number"]
        values["_written"] = {"receipt_number": values["receipt_printed"], "status": "",
                              **{name: cells[at] for name, at in quoted}}
        if receipt in first_seen:
            plan.add_error(RowError(line, receipt_column, values["receipt_printed"],
                                    "この受付番号は ${first} 行目にもあります。",
                                    {"first": first_seen[receipt]}))
            continue
        first_seen[receipt] = line
        yield line, receipt, values


def _compare(catalogue, programme, parsed, found, plan, remembered, kinds):
    verdicts, details, changed_verdicts, changed_details = remembered
    existing, elsewhere = found
    planned = []
    receipt_column, status_column = plan.columns.titles[
        plan.columns.fields.index("receipt_number")], _title(plan.columns, "status")
    for line, receipt, values in parsed:
        written = values.pop("_written")
        if receipt in elsewhere:
            plan.add_error(RowError(line, receipt_column, written["receipt_number"],
                                    "この受付番号は別の事業（${programme}）に登録されています。",
                                    {"programme": elsewhere[receipt]}))
            continue
        current = existing.get(receipt)
        if current is None and plan.kind == "status":
            plan.add_error(RowError(line, receipt_column, written["receipt_number"],
                                    "この受付番号は登録されていません。"))
            continue
        if plan.gaiji_table and not _gaiji_mapped(plan, line, values, current):
            continue
        # The details the row states, as a plain tuple: the remembered verdicts below are
        # looked up by it, and an ActionDetails is made only when the rules are asked.
        stated = (values.get(_KINDS), values.get(_SENT), values.get(_RETURN))
        row = _row_plan(line, receipt, values, current)
        if not _characters_kept(plan, row, current):
            continue
        refused = (_changed_status_problem(catalogue, row, current, changed_verdicts)
                   if current is not None else _new_status_problem(catalogue, row, verdicts))
        if refused:
            plan.add_error(RowError(line, status_column, written["status"], refused.message,
                                    refused.mapping))
            continue
        try:
            if current is None:
                _new_details_problem(catalogue, kinds, row, stated, details)
            else:
                _changed_details(catalogue, kinds, row, current, stated, changed_details)
        except action_rules.ActionDetailsRefused as refusal:
            plan.add_error(RowError(line, _title(plan.columns, refusal.field),
                                    written.get(refusal.field, ""), refusal.message,
                                    refusal.mapping))
            continue
        planned.append(row)
    return planned


def _action_details(catalogue, kinds, row, current, stated):
    """The row's action details by the rules (deficiencies.rules), or ActionDetailsRefused.

    What the row states counts (a re-imported export states what is stored); only what it
    changes may be refused for a status without action. A row moving the application into
    a status that needs action starts a new round: stored details it does not state are
    cleared in ``row.values``."""
    status = row.values.get("status") or current["status"]
    target = catalogue[status]
    stored = (action_rules.ActionDetails(*(current[name] for name in action_rules.FIELDS))
              if current is not None else action_rules.ActionDetails(0))
    row.new_round = current is not None and target.needs_resident_action and \
        not catalogue[current["status"]].needs_resident_action
    retired = kinds.newly_retired(stated.deficiency_kinds or 0, stored.deficiency_kinds or 0)
    if retired is not None:
        raise action_rules.ActionDetailsRefused("deficiency_kinds", kind_catalogue.RETIRED_KIND,
                                                value=retired.name)
    after = action_rules.after(stored, stated, new_round=row.new_round)
    changed = action_rules.ActionDetails(*(row.values.get(name) for name in action_rules.FIELDS))
    action_rules.check(target, after, changed)
    if row.new_round:
        for name in action_rules.FIELDS:
            if getattr(after, name) != getattr(stored, name):
                row.values[name] = getattr(after, name)


def _new_details_problem(catalogue, kinds, row, stated, remembered):
    """_action_details for a new application, remembered: with nothing stored its verdict
    depends only on the status and the details the row states (no new round, nothing
    cleared), so a million new rows ask the rules a handful of times. Raises the refusal."""
    key = (row.values["status"], stated)
    try:
        refusal = remembered[key]
    except KeyError:
        if len(remembered) >= _REMEMBERED:
            remembered.clear()
        refusal = None
        try:
            _action_details(catalogue, kinds, row, None, action_rules.ActionDetails(*stated))
        except action_rules.ActionDetailsRefused as refused:
            refusal = refused
        remembered[key] = refusal
    if refusal is not None:
        raise refusal.with_traceback(None)     # raised again: no frames piled onto it


# Distinct (status, details) verdicts kept for new rows; then started again.
_REMEMBERED = 4096


def _changed_details(catalogue, kinds, row, current, stated, remembered):
    """_action_details for a changed application, remembered: its verdict, whether a new
    round starts and the details it clears depend only on the stored status and details,
    the status the row moves to and the details it states (what it changes of them follows
    from those two) — a bank file's 50,000 rows ask the rules a handful of times."""
    key = (current["status"], row.values.get("status"),
           (current[_KINDS], current[_SENT], current[_RETURN]), stated)
    try:
        refusal, new_round, cleared = remembered[key]
    except KeyError:
        if len(remembered) >= _REMEMBERED:
            remembered.clear()
        refusal, new_round, cleared = remembered[key] = _details_of(
            catalogue, kinds, row, current, action_rules.ActionDetails(*stated))
    row.new_round = new_round
    if refusal is not None:
        raise refusal.with_traceback(None)
    row.values.update(cleared)


def _characters_kept(plan, row, current) -> bool:
    """False (the row refused) if a value would store a 外字 or replace a stored character
    by 〓; a value that is only the CP932 export of the stored one is dropped from the
    change, with a notice (intranet.characters)."""
    values = row.values
    if current is None:     # a new row: only its 外字, in one search over its text
        if not characters.GAIJI.search(_SEPARATOR.join(
                [values.get(name) or "" for name in characters.TEXT_FIELDS])):
            return True
        return _no_gaiji(plan, row, characters.TEXT_FIELDS)
    changed_text = [name for name in values if name in _TEXT_SET]
    kept = False
    for name in changed_text:
        before, after = current[name], values[name]
        verdict = characters.geta_verdict(before, after)
        if verdict == "kept":
            del values[name]
            kept = True
            plan.kept += 1
            plan.add_notice(RowError(row.line, _title(plan.columns, name), after,
                                     characters.KEPT, {"before": before, "after": after,
                                     "characters": characters.lost_characters(before)}))
        elif verdict:
            plan.add_error(RowError(row.line, _title(plan.columns, name), after,
                                    characters.REPLACES,
                                    {"before": before, "characters": characters.shown(verdict)}))
            return False
        elif warning := characters.change_warning(before, after):
            plan.flagged += 1
            plan.add_notice(RowError(row.line, _title(plan.columns, name), after, *warning))
    if not _no_gaiji(plan, row, [n for n in changed_text if n in values]):
        return False
    if kept:
        _settle_kept(row, current)
    if row.before is not None:
        row.before = {k: current[k] for k in values if k in current}
    return True


_TEXT_SET = frozenset(characters.TEXT_FIELDS)
_SEPARATOR = "\x00"


def _gaiji_mapped(plan, line, values, current) -> bool:
    """Each 外字 the city's table maps replaced in ``values``, told as a notice and kept
    in 備考 as its code point (intranet.gaiji); False (the row refused) if 備考 cannot hold
    that. An unmapped 外字 stays, for _no_gaiji to refuse."""
    memos = []
    for name in characters.TEXT_FIELDS:
        text = values.get(name)
        if not isinstance(text, str) or not characters.GAIJI.search(text):
            continue
        values[name], replaced = gaiji.replace(plan.gaiji_table, text)
        title = _title(plan.columns, name)
        for position, character, replacement in replaced:
            plan.replaced_gaiji += 1
            plan.add_notice(RowError(line, title, values[name], characters.GAIJI_REPLACED, {
                "before": current[name] if current else "", "replacement": replacement,
                "code": f"U+{ord(character):04X}", "position": position}))
            memos.append(gaiji.memo(title, position, character, replacement))
    if not memos:
        return True
    notes = gaiji.with_memos(values.get("notes") or (current["notes"] if current else "") or "",
                             memos)
    if len(notes) > gaiji.NOTES_LIMIT:
        plan.add_error(RowError(line, _title(plan.columns, "notes"), "",
                                characters.GAIJI_NOTES_FULL, {"limit": gaiji.NOTES_LIMIT}))
        return False
    values["notes"] = notes
    return True


def _no_gaiji(plan, row, names) -> bool:
    for name in names:
        found = characters.gaiji_in(row.values.get(name))
        if found:
            message = characters.GAIJI_UNMAPPED if plan.gaiji_table else characters.GAIJI_FOUND
            plan.add_error(RowError(row.line, _title(plan.columns, name), row.values[name],
                                    message, found))
            return False
    return True


def _settle_kept(row, current):
    """After values were kept: the search key from what will be stored, and a row left with
    no change is unchanged."""
    values = row.values
    values.pop("search_key", None)
    if values.keys() & {"name", "kana", "phone"}:
        merged = {**current, **values}
        values["search_key"] = search_key(merged["name"], merged["kana"], merged["phone"])
    if not values:
        row.action, row.before = "unchanged", None


def _title(plan_columns, name):
    fields = plan_columns.fields
    return plan_columns.titles[fields.index(name)] if name in fields else columns.label(name)


def _row_plan(line, receipt, values, current):
    if current is None:
        values.setdefault("status", INITIAL_STATUS)
        return RowPlan(line, receipt, "new", values)
    changed = {k: v for k, v in values.items()
               if k in _COMPARED_SET and v not in (None, "") and current[k] != v}
    if changed.keys() & {"name", "kana", "phone"}:
        merged = {**current, **changed}
        changed["search_key"] = search_key(merged["name"], merged["kana"], merged["phone"])
    action = "changed" if changed else "unchanged"
    return RowPlan(line, receipt, action, changed, current["id"], current["status"],
                   before={} if changed else None)


def _status_problem(catalogue, row, current):
    """The catalogue's refusal of this row's status (``intranet.statuses.rules``), or None.

    A row that keeps the status it has is no change. A row states the record: what it
    leaves blank the application keeps, so the rules see the row over the record."""
    target = row.values.get("status")
    if target is None or (current is not None and target == current["status"]):
        return None
    merged = {**(current or {}), **row.values}
    needs = rules.Needs(merged.get("scheduled_payment_on") or None, merged.get("paid_on") or None,
                        merged.get("deficiency_reason") or "")
    try:
        rules.check_change(catalogue, current and current["status"], target, needs)
    except rules.StatusChangeRefused as refused:
        return refused
    return None


def _details_of(catalogue, kinds, row, current, stated):
    """(the refusal or None, new round?, the details set) of _action_details on ``row``."""
    before = dict(row.values)
    refusal = None
    try:
        _action_details(catalogue, kinds, row, current, stated)
    except action_rules.ActionDetailsRefused as refused:
        refusal = refused
    return refusal, row.new_round, tuple(
        (name, row.values[name]) for name in action_rules.FIELDS
        if name in row.values and (name not in before or before[name] is not row.values[name]))


def _changed_status_problem(catalogue, row, current, verdicts):
    """_status_problem for a stored application, remembered: the rules read the stored
    status, the one the row moves to and whether each of the three values is there (the
    row's, else the stored one)."""
    values = row.values
    target = values.get("status")
    if target is None or target == current["status"]:
        return None
    key = (current["status"], target, *(not _over(values, current, name) for name in _NEEDED[:2]),
           not (_over(values, current, "deficiency_reason") or "").strip())
    try:
        return verdicts[key]
    except KeyError:
        if len(verdicts) >= _REMEMBERED:
            verdicts.clear()
        verdict = verdicts[key] = _status_problem(catalogue, row, current)
        return verdict


_NEEDED = ("scheduled_payment_on", "paid_on")


def _over(values, current, name):
    """A value as the rules see it: the row's over the record's ({**current, **values})."""
    return values[name] if name in values else current.get(name)


def _new_status_problem(catalogue, row, verdicts):
    """_status_problem for a new application, remembered: with no stored record the rules
    read only the status and whether each of the three values is there, so a file's
    million new rows ask them a handful of times."""
    values = row.values
    key = (values.get("status"), values.get("scheduled_payment_on") is None,
           values.get("paid_on") is None, not (values.get("deficiency_reason") or "").strip())
    try:
        return verdicts[key]
    except KeyError:
        verdict = verdicts[key] = _status_problem(catalogue, row, None)
        return verdict


def _existing(dbsession, programme, receipts):
    """This programme's applications by number, and numbers taken by another programme."""
    table = Application.__table__.c
    columns_wanted = (table.programme_id, table.receipt_number_normalised,
                      *(table[c] for c in _COMPARED if c != "status"),
                      table.status_code, table.id)
    names = None
    mine, elsewhere = {}, {}
    for row in _lookup(dbsession, columns_wanted, receipts):
        if row[0] != programme.id:
            if names is None:   # only a file with such numbers pays for the names
                names = {p.id: p.name for p in all_programmes(dbsession)}
            elsewhere[row[1]] = names[row[0]]
            continue
        mine[row[1]] = dict(zip(_CURRENT, row[2:], strict=True))
    return mine, elsewhere


# A stored application as the plan reads it: the compared columns, its status, its id (the
# select above in this order; a row's tuple zipped, without a mapping per row).
_CURRENT = (*(c for c in _COMPARED if c != "status"), "status", "id")


def _lookup(dbsession, columns, receipts):
    """The stored rows with these numbers, ``columns`` (the table's) of each. PostgreSQL:
    one statement with the numbers as one array parameter (an IN list of thousands of
    parameters costs more to build and send than to run), planned as index probes whatever
    the statistics say (``_probed``); SQLite: through the driver (sqlite_rows.looked_up)."""
    if dbsession.get_bind().dialect.name != "postgresql":
        return sqlite_rows.looked_up(dbsession, columns, receipts)
    number = Application.receipt_number_normalised
    return _probed(dbsession, select(*columns).where(number == any_(
        bindparam("numbers", receipts, type_=postgresql.ARRAY(String)))))


# Why the lookup is planned by hand: a table filled a moment ago has no statistics until
# autovacuum's ANALYZE (a transaction's own rows are never counted), and PostgreSQL then
# takes each number to match 0.5 % of the rows and reads the whole table per chunk —
# 0.18-0.26 s at a million applications, where a chunk's 5,000 probes of
# ix_applications_receipt take 0.05 s (docs/performance.md, the import section). A chunk is
# at most _CHUNK probes whatever the table holds, so its lookup is planned with index scans
# only. (That forces probes for a list on the column an index starts with; for a list on a
# later column, publications.incremental._older_rows looks each key up by itself.)
_PROBES_ONLY = text("SELECT set_config('enable_seqscan', 'off', true), "
                    "set_config('enable_bitmapscan', 'off', true)")
_PLANNER_AS_CONFIGURED = text("SELECT set_config(name, reset_val, true) FROM pg_settings "
                              "WHERE name IN ('enable_seqscan', 'enable_bitmapscan')")


def _probed(dbsession, query) -> list:
    """``query``'s rows, planned with index scans only; the planner's settings as configured
    after it (set for the transaction: a lookup that fails aborts it, and the setting goes
    with it)."""
    dbsession.execute(_PROBES_ONLY)
    rows = list(dbsession.execute(query))
    dbsession.execute(_PLANNER_AS_CONFIGURED)
    return rows
