"""An audit record in the words staff use: the action, its target and its details in
Japanese (English in the English UI), the stored record itself left untouched for the
record page and the CSV.

Every label is a message id (Japanese) translated where it is shown. Each action the code
writes, each detail it records and each code such a detail holds has its entry here; a unit
test reads every ``writer.append`` in the code and fails on one without its words.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from intranet.fields import FIELD_WORDS, words
from intranet.programmes.lifecycle import STATE_LABELS
from intranet.publications import failures
from intranet.statuses.services import staff_labels
from intranet.web import LABELS, format_date, local_time

ACTIONS = {
    "login.success": "ログイン",
    "login.failure": "ログインの失敗",
    "login.throttled": "ログインの一時停止（失敗の繰り返し）",
    "logout": "ログアウト",
    "application.status": "状況の変更",
    "application.bulk_status": "状況の一括変更",
    "application.view": "申請の閲覧（問い合わせ対応）",
    "application.search": "申請の検索（問い合わせ対応）",
    "application.search_throttled": "検索の一時停止（問い合わせ対応・生年月日や電話番号の繰り返し）",
    "application.action_details": "不備の種類・返送期限の変更",
    "import.apply": "ファイルの取込",
    "import_layout.save": "取込の対応表の保存",
    "import_layout.refused": "取込の対応表の変更を拒否",
    "export": "ファイルの出力",
    "catalogue.seed": "状況の定義の初期登録",
    "catalogue.update": "状況の定義の変更",
    "programme.create": "事業の登録",
    "programme.update": "事業の変更",
    "programme.return_details": "返送先と同封するものの変更",
    "deficiency_kind.create": "不備の種類の登録",
    "deficiency_kind.update": "不備の種類の変更",
    "programme.lookup_close": "事業の照会終了",
    "programme.archive": "事業の保存（読み取り専用へ）",
    "programme.dispose": "事業の廃棄",
    "publication.request": "公開の依頼",
    "publication.approve": "公開の承認",
    "publication.reject": "公開の却下",
    "publication.refused": "公開の中止（転送ジョブ）",
    "publication.rows_altered": "公開した内容の固定データの書き換えを検知（公開したのは承認された内容）",
    "publication.superseded": "公開依頼の統合（後の依頼で公開）",
    "publication.spooled": "公開用データの作成（署名待ち）",
    "transfer.failed": "公開の失敗（署名・転送の手順）",
    "transfer.delivery": "公開用ファイルの転送",
    "transfer.redelivery": "公開用ファイルの再送（届いていなかった公開先へ同じファイル）",
    "transfer.usage_refused": "公開ホストの利用件数の受付拒否",
    "audit.checkpoint": "監査ログの署名（チェックポイント）",
    "audit.prune": "保存期間を過ぎた監査記録の整理",
    "user.create": "ユーザーの作成",
    "user.update": "ユーザーの変更",
    "user.grant.request": "役割の付与の申請",
    "user.grant.approve": "役割の付与の承認",
    "user.grant.reject": "役割の付与の却下",
    "user.request": "アカウントの変更の依頼（二者承認）",
    "user.request.approve": "アカウントの変更の承認",
    "user.request.reject": "アカウントの変更の却下・取り下げ",
    "user.request.refused": "アカウントの変更の拒否（職務の分離）",
    "user.password": "仮パスワードの発行",
    "user.password.reset": "パスワードの再設定",
    "user.password.change": "パスワードの変更",
    "disclosure.produce": "開示資料の作成",
    "disposal.request": "廃棄の申請",
    "disposal.approve": "廃棄の承認と実施",
    "disposal.reject": "廃棄の却下",
    "disposal.reapply": "廃棄のやり直し（バックアップ復元後）",
    "database.upgrade": "データベースの更新",
    "demo.seed": "デモデータの作成",
}
UNKNOWN_ACTION = "その他の操作"

# The filter of the screen an action was taken from, grouped as the officer looks for them.
ACTION_GROUPS = {
    "login": "ログイン", "logout": "ログアウト", "application": "申請の閲覧と状況の変更",
    "import": "取込", "export": "ファイルの出力", "catalogue": "状況の定義",
    "programme": "事業", "deficiency_kind": "不備の種類", "publication": "公開",
    "transfer": "転送", "user": "ユーザー",
    "disposal": "廃棄", "disclosure": "開示", "audit": "監査ログ", "database": "データベース",
    "demo": "デモデータ",
}


def action_groups() -> list[tuple[str, str, list[str]]]:
    """(prefix, label, actions) for the filter: the prefix matches as the filter does."""
    return [(group, label, [a for a in ACTIONS if a.startswith(group)])
            for group, label in ACTION_GROUPS.items()]


def _fields(*names: str) -> dict[str, str]:
    return {name: FIELD_WORDS[name] for name in names}


DETAILS = {
    # applications: a field recorded under its own name is named as the import's column
    "status_before": "変更前の状況", "status_after": "変更後の状況", "to": "変更後の状況",
    **_fields("status", "scheduled_payment_on", "paid_on", "deficiency_reason",
              "documents_sent_on", "return_by", "receipt_number", "phone"),
    "receipt": FIELD_WORDS["receipt_number"], "birth": FIELD_WORDS["birth_date"],
    "reason": "理由",
    # the kinds as recorded: the set's number, not the names
    "deficiency_kinds": "不備の種類（番号の組）",
    "changed": "変更した件数", "unchanged": "変更のなかった件数", "refused": "変更できなかった件数",
    "plan": "確認画面の番号", "personal": "個人情報（別表に保管）",
    # the inquiry desk's searches (applications/inquiry.py)
    "filters": "使った条件", "found": "見つかった件数", "rule": "一時停止の理由",
    "page": "画面",
    # imports and exports
    "filename": "ファイル名", "sha256": "SHA-256", "programme": "事業", "kind": "ファイルの種類",
    "rows": "件数", "created": "新規登録", "status_moves": "状況を変える行", "moved": "状況を変えた件数",
    "moves": "状況を変えた件数", "typed": "個人を指す絞り込み条件（値は別表に保管）",
    "layout": "対応表の名前",
    "name": "名前", "columns": "列の数", "filter": "絞り込み条件", "encoding": "文字コード・形式",
    # users and logins
    "username": "ユーザー名", "role": "役割", "one_time_password": "仮パスワード",
    "display_name": "表示名", "is_active": "利用できる", "grant": "申請番号",
    "replaced_one_time": "仮パスワードからの変更", "request": "依頼の内容", "wait_seconds": "待ち時間（秒）",
    "held": "止めた単位",
    "before": "変更前", "after": "変更後",
    # the catalogue and programmes
    "aliases": "別名", "staff_label": "職員向けの名称", "staff_label_en": "職員向けの名称（英語）",
    "sort_order": "表示順", "is_final": "最終の状況", "resident_action": "住民の手続きが必要",
    "needs": "入力が必要な項目", "next": "次に選べる状況", "wording": "住民向けの文言",
    "code": "事業コード", "name_en": "事業名（英語）", "needs_birth_date": "照会に生年月日が必要",
    "contact": "問い合わせ先", "retention_years": "保存年数", "lookup_opens_on": "照会開始日",
    "lookup_closes_on": "照会終了日", "at": "日時", "state_before": "それまでの段階",
    "disposal": "廃棄番号",
    # 不備の種類 and 返送先
    "bit": "不備の種類の番号", "retired": "使用終了", "return_to": "返送先（日本語）",
    "return_to_en": "返送先（英語）", "return_to_easy": "返送先（やさしい日本語）",
    "enclose": "同封するもの（日本語）", "enclose_en": "同封するもの（英語）",
    "enclose_easy": "同封するもの（やさしい日本語）",
    # publications and transfers
    "state": "状態", "note": "メモ", "content_digest": "内容のダイジェスト",
    "approved_digest": "承認されたダイジェスト",
    "rows_digest": "いまの固定データのダイジェスト", "four_eyes": "二者承認", "by": "統合先の公開依頼",
    "publications": "公開依頼", "requested_by": "依頼した人", "approved_by": "承認した人",
    "signing_key_ids": "署名鍵", "sequence": "通し番号", "size": "大きさ（バイト）",
    "entries": "件数", "pushed_by": "転送したアカウント",
    "host_key_fingerprint": "公開サーバーの鍵", "audit_checkpoint":
    "監査ログの記録数（署名時点）", "result": "結果", "attempts": "試行回数",
    "report": "転送係の報告の番号",
    # the audit itself
    "count": "記録数", "head_hash": "先頭のハッシュ", "key_id": "鍵 ID", "signature": "署名",
    "records": "整理した記録数", "through_seq": "整理した最後の番号", "anchor_hash": "起点のハッシュ",
    "anchor_at": "起点の署名日時",
    "archive": "保管ファイル", "archive_sha256": "保管ファイルの SHA-256",
    # disclosures and disposals
    "format": "形式", "history": "履歴の件数", "audit_records": "監査記録の件数",
    "retention_ends_on": "保存期間の終わり", "override": "保存期間内の廃棄",
    "applications": "申請の件数", "history_entries": "履歴の件数", "audit_values": "監査の個人情報",
    "spool_files": "取込ファイル", "publication_rows": "公開用の行",
    "backups_age_out_on": "バックアップから消える日", "record_disposal_id": "廃棄記録の番号",
    "record_sha256": "廃棄記録の SHA-256", "applications_in_record": "廃棄記録の申請件数",
    # the database and the demo
    "revision": "版",
    # the list screens' filters, as an export records them
    "from": "開始日", "to_date": "終了日", "after_cursor": "ページ位置", "sort": "並び順", "dir": "順序",
    "destination": "転送先", "actor": "ユーザー", "action": "操作", "replace": "置き換え",
}

_ORDER = {key: n for n, key in enumerate(DETAILS)}

CODES = {
    "reason": {"credentials": "名前またはパスワードの誤り", "inactive": "利用停止中のアカウント",
               "one_time_expired": "仮パスワードの期限切れ",
               # refused account changes (intranet.users.requests)
               "own_request": "依頼した本人による承認", "own_account": "自分のアカウントへの操作",
               "admin_data_role": "管理者のアカウントに申請者の情報を読む役割",
               "data_role_admin": "申請者の情報を読む役割のアカウントを管理者に",
               "pending": "承認待ちの依頼がすでにある", "not_approved": "作成が承認されていない",
               "decided": "処理済みの依頼", "bootstrap_role": "コマンドで作れない役割",
               "bootstrap_done": "この役割のアカウントがすでにある",
               # a staff member's change to a supervisor's import layout
               "supervisor_layout": "監督者が保存した対応表"},
    "result": {"delivered": "転送済", "failed": "失敗"},
    "held": {"address": "端末（どの名前でも）", "name": "名前と端末の組"},
    "kind": {"full": "申請者一覧（全項目）", "status": "状況だけのファイル"},
    "format": {"html": "画面（印刷用）", "csv": "CSV"},
    "page": {"story": "申請の経緯"},
    "encoding": {"utf-8": "CSV（UTF-8）", "cp932": "CSV（Shift_JIS）", "xlsx": "Excel（.xlsx）"},
    "state": LABELS["publication_states"],
    "state_before": STATE_LABELS,
    "dir": {"asc": "古い順", "desc": "新しい順"},
    "sort": {"received": FIELD_WORDS["received_on"], "updated": "最終更新",
             "status": FIELD_WORDS["status"], "receipt": FIELD_WORDS["receipt_number"]},
    "revision": {"head": "最新"},
    "filters": {"receipt": FIELD_WORDS["receipt_number"], "name": "氏名・フリガナ",
                "birth": FIELD_WORDS["birth_date"], "phone": FIELD_WORDS["phone"],
                "programme": "事業", "status": FIELD_WORDS["status"],
                "from": "申請日（から）", "to": "申請日（まで）"},
    "rule": {"same_application": "同じ申請に、生年月日・電話番号を変えた検索の繰り返し",
             "pace": "生年月日・電話番号を使った検索が短い時間に多い"},
    "role": LABELS["role_labels"],
    "request": LABELS["request_labels"],
}
STATUS_VALUES = {"status_before", "status_after", "to", "status", "next"}
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)Z?$")
HASH = re.compile(r"^[0-9a-f]{40,}$")
# What the first part of a target names ("application:12").
TARGETS = {"application": "申請", "applications": "申請", "user": "ユーザー",
           "report": "転送係の報告",
           "publication": "公開依頼", "programme": "事業", "status": FIELD_WORDS["status"],
           "import": "取込", "import_layout": "取込の対応表", "disposal": "廃棄",
           "deficiency_kind": "不備の種類",
           "audit": "監査記録"}
BARE_TARGETS = {"applications": "申請", "statuses": "状況の定義", "schema": "データベース",
                "": ""}
EXPORTS = {"applications": "申請一覧", "history": "状況履歴", "audit": "監査ログ",
           "transfers": "転送ログ", "usage": "オンライン照会と問い合わせ対応の件数",
           "import_problems": "取込の確認で見つかった問題の一覧"}
FILE_KINDS = {"csv": "CSV", "xlsx": "Excel"}
NEEDS = tuple(words("scheduled_payment_on", "paid_on", "deficiency_reason"))
LANGUAGES = {"ja": "日本語", "en": "英語", "ja-easy": "やさしい日本語"}


@dataclass
class Vocabulary:
    """What rendering needs from the request: its language and the names of things."""

    translate: Callable[..., str]
    locale: str = "ja"
    statuses: Mapping[str, str] = field(default_factory=dict)     # code → staff label
    users: Mapping[int, str] = field(default_factory=dict)        # id → user name
    programmes: Mapping[str, str] = field(default_factory=dict)   # code or id → name
    # Application id → receipt number, for targets whose record keeps none beside the chain
    # (a disclosure); "" for an erased application (its number went with disposal).
    receipts: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, request, users=None, programmes=None) -> "Vocabulary":
        return cls(remembered(request.translate), request.locale_name,
                   staff_labels(request.dbsession, request.locale_name),
                   users or {}, programmes or {})


def remembered(translate: Callable[..., str]) -> Callable[..., str]:
    """``translate`` that looks each plain label up once: a page of 100 records asks for
    the same few dozen labels ~900 times, each a catalogue lookup (a fifth of the audit
    screen's time at 10M records). Labels with values filled in are translated each time."""
    seen: dict[str, str] = {}

    def translated(message, **mapping):
        if mapping or type(message) is not str:   # a TranslationString carries its own
            return translate(message, **mapping)
        text = seen.get(message)
        if text is None:
            text = seen[message] = translate(message)
        return text

    return translated


# Who acted, when it was no member of staff: the command line and the transfer job.
ROLES = {**LABELS["role_labels"], "cli": "コマンド操作（サーバー上）", "transfer": "転送ジョブ",
         "": ""}


@dataclass(frozen=True)
class Described:
    action: str
    target: str
    lines: list[tuple[str, str]]   # (label, value), both in the reader's language
    role: str = ""


def action_label(action: str) -> str:
    return ACTIONS.get(action, UNKNOWN_ACTION)


def describe(record, words: Vocabulary, personal: list[dict] | None = None,
             total: int | None = None) -> Described:
    """The record in words. ``personal``: its values kept beside the chain, if loaded (the
    first of them when ``total``, the number of side rows, says there are more)."""
    t = words.translate
    details = _details(record.details)
    lines = []
    # In the order of DETAILS (before comes before after), not the stored alphabetical one.
    for key, value in sorted(details.items(), key=lambda item: _ORDER.get(item[0], len(_ORDER))):
        if key == "personal":
            continue
        if key == "reason" and record.action in ("transfer.delivery", "transfer.redelivery",
                                                     "publication.refused", "transfer.failed"):
            if value:
                lines.append((t("理由"), t(failures.explain(value).what)))
            continue
        if key in ("before", "after") and isinstance(value, dict | None):
            continue  # shown together as one line of changes, below
        lines.append((t(DETAILS.get(key, "その他")), value_text(key, value, words)))
    if "after" in details and isinstance(details["after"], dict):
        lines.append((t("変更内容"), changes_text(details.get("before"), details["after"], words)))
    if "personal" in details:
        lines.extend(_side_lines(personal, total, words))
    role = ROLES.get(record.actor_role, "システム")
    # A record about one application keeps its receipt number beside it (one side row).
    receipt = str(personal[0].get("receipt") or "") if personal and len(personal) == 1 else ""
    return Described(t(action_label(record.action)),
                     target_text(record.target, record.action, words, receipt),
                     lines, t(role) if role else "")


def target_text(target: str, action: str, words: Vocabulary, receipt: str = "") -> str:
    """What a record acted on. An application by its receipt number (``receipt``: the one
    kept beside the record, else the application's own), never by the internal id alone."""
    t = words.translate
    if action == "export":
        stem, _, extension = target.rpartition(".")
        return t("${what}（${kind}）", what=t(EXPORTS.get(stem, "その他の一覧")),
                 kind=FILE_KINDS.get(extension, extension))
    if action in ("transfer.delivery", "transfer.redelivery"):
        return target  # the destination itself, as configured
    kind, colon, rest = target.partition(":")
    if not colon:
        return t(BARE_TARGETS[target]) if target in BARE_TARGETS else target
    if kind == "user" and rest.isdigit() and int(rest) in words.users:
        return t("ユーザー ${name}", name=words.users[int(rest)])
    if kind == "status":
        return t("状況「${label}」", label=words.statuses.get(rest, rest))
    if kind == "audit":
        return t("監査記録 ${n} 番まで", n=rest.rpartition("-")[2])
    if kind == "applications":
        return t("申請 ${n} 件", n=rest)
    if kind == "application" and rest.isdigit():
        receipt = receipt or words.receipts.get(int(rest)) or ""
        if receipt:
            return t("申請（受付番号 ${receipt}）", receipt=receipt)
        if int(rest) in words.receipts:
            return t("申請（受付番号は廃棄済み・内部番号 ${id}）", id=rest)
        return t("申請（内部番号 ${id}）", id=rest)
    return t("${kind} ${id} 番", kind=t(TARGETS.get(kind, "対象")), id=rest)


def value_text(key: str, value, words: Vocabulary) -> str:
    """One detail's value as a person reads it."""
    t = words.translate
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("はい") if value else t("いいえ")
    if key in STATUS_VALUES:
        codes = value if isinstance(value, list) else [value]
        return "、".join(words.statuses.get(str(c), str(c)) for c in codes) or "—"
    if key == "needs" and isinstance(value, list):
        needed = [t(name) for name, on in zip(NEEDS, value, strict=False) if on]
        return "、".join(needed) or t("なし")
    if key == "wording" and isinstance(value, dict):
        return "、".join(t(LANGUAGES.get(lang, lang)) for lang in value)
    if key == "filter" and isinstance(value, dict):
        return "、".join(f"{t(DETAILS.get(_filter_key(k), 'その他'))}: "
                        f"{value_text(_filter_key(k), v, words)}"
                        for k, v in value.items()) or t("なし")
    if key == "action":
        return t(ACTIONS.get(str(value)) or ACTION_GROUPS.get(str(value), UNKNOWN_ACTION))
    if key == "moves" and isinstance(value, dict):
        return "、".join(t("${move}: ${n} 件", move=_move_text(move, words), n=f"{count:,}")
                        for move, count in value.items()) or t("なし")
    if key == "typed" and isinstance(value, list):
        return "、".join(t(DETAILS.get(_filter_key(str(k)), "その他")) for k in value)
    if key in ("programme", "code") and str(value) in words.programmes:
        return words.programmes[str(value)]
    if key in ("requested_by", "approved_by") and isinstance(value, int):
        return words.users.get(value, str(value))
    if isinstance(value, list):
        return "、".join(value_text(key, v, words) for v in value)
    if isinstance(value, dict):
        return "、".join(f"{t(DETAILS.get(k, 'その他'))}: {value_text(k, v, words)}"
                        for k, v in value.items())
    if isinstance(value, int | float):
        return f"{value:,}"
    return _text(key, str(value), words)


def changes_text(before: dict | None, after: dict, words: Vocabulary) -> str:
    """Only what changed: 「役割: 担当職員 → 監督者」; everything when there was no before."""
    t = words.translate
    parts = []
    for key, new in after.items():
        label = t(DETAILS.get(key, "その他"))
        if before is None:
            parts.append(f"{label}: {value_text(key, new, words)}")
        elif before.get(key) != new:
            parts.append(f"{label}: {value_text(key, before.get(key), words)} → "
                         f"{value_text(key, new, words)}")
    return "、".join(parts) or t("変更なし")


def _once(values: list[dict]) -> list[dict]:
    """Each set of values once: a desk search keeps the same filter on every application
    it names."""
    seen: list[dict] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


DISPOSED = "（廃棄済み）"


def _side_lines(personal: list[dict] | None, total: int | None,
                words: Vocabulary) -> list[tuple[str, str]]:
    """The values beside the chain: shown while they exist, 「（廃棄済み）」 once disposal
    has cut them (the record itself keeps only their salted digest)."""
    t = words.translate
    if personal is None:
        return [(t("個人情報"), t("別表に保管（記録の詳細で確認できます）"))]
    if not personal:
        return [(t("個人情報"), t(DISPOSED))]
    lines = [line for values in _once(personal) for line in _personal_lines(values, words)]
    if total is not None and total > len(personal):
        lines.append((t("個人情報"), t("ほか ${n} 件（記録の詳細で確認できます）",
                                      n=f"{total - len(personal):,}")))
    return lines


def _personal_lines(values: dict, words: Vocabulary) -> list[tuple[str, str]]:
    t = words.translate
    lines = []
    if values.get("receipt"):
        lines.append((t(FIELD_WORDS["receipt_number"]), str(values["receipt"])))
    if values.get("move"):
        lines.append((t("状況の変化"), _move_text(str(values["move"]), words)))
    if values.get("filename"):
        lines.append((t("ファイル名"), str(values["filename"])))
    if isinstance(values.get("filter"), dict):
        lines.append((t("入力された絞り込み条件"), value_text("filter", values["filter"], words)))
    if isinstance(values.get("after"), dict):
        changed = {k: v for k, v in values["after"].items() if k != "status"}
        text = changes_text({k: v for k, v in (values.get("before") or {}).items()
                             if k != "status"}, changed, words)
        if text != t("変更なし"):
            lines.append((t("変更した項目"), text))
    if values.get("reason"):
        lines.append((t("理由"), str(values["reason"])))
    return lines


def _move_text(move: str, words: Vocabulary) -> str:
    """「受付済 → 審査中」 for the stored "received→reviewing"."""
    before, _, after = move.partition("→")
    return f"{words.statuses.get(before, before)} → {words.statuses.get(after, after)}"


def _filter_key(key: str) -> str:
    return {"after": "after_cursor", "to": "to_date"}.get(key, key)


def _text(key: str, text: str, words: Vocabulary) -> str:
    t = words.translate
    codes = CODES.get(key, {})
    if text in codes:
        return t(codes[text])
    if text == "(given)":
        return t("（入力あり）")
    if DATE_ONLY.match(text):
        return format_date(date.fromisoformat(text), words.locale)
    moment = DATE_TIME.match(text)
    if moment:
        return local_time(datetime.fromisoformat(f"{moment[1]}T{moment[2]}"), words.locale)
    if HASH.match(text):
        return f"{text[:16]}…"
    return text


def _details(raw: str) -> dict:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
