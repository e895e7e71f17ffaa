"""Which column is which: Japanese headers, English aliases, and a municipality's own
mapping file for other layouts. A My Number column is refused outright."""

import json
import unicodedata

from intranet.imports.errors import ImportRefused

FIELDS = {
    "receipt_number": ("受付番号", "申請番号", "receipt_number", "receipt number"),
    "name": ("氏名", "申請者氏名", "name"),
    "kana": ("フリガナ", "ふりがな", "氏名カナ", "kana"),
    "birth_date": ("生年月日", "birth_date", "date of birth"),
    "address": ("住所", "address"),
    "phone": ("電話番号", "phone"),
    "received_on": ("申請日", "受付日", "received_on", "received"),
    "route": ("申請方法", "route"),
    "status": ("状況", "ステータス", "status"),
    "scheduled_payment_on": ("振込予定日", "scheduled_payment_on"),
    "paid_on": ("振込日", "paid_on"),
    "deficiency_reason": ("不備内容", "deficiency_reason"),
    "notes": ("備考", "notes"),
}
# Never imported, whatever the mapping says: the system has no business holding it.
FORBIDDEN = ("個人番号", "マイナンバー", "my number", "mynumber", "individual number")

FULL_REQUIRED = ("receipt_number", "name", "received_on")
STATUS_REQUIRED = ("receipt_number", "status")


def _key(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().lower()


_ALIASES = {_key(alias): field for field, aliases in FIELDS.items() for alias in aliases}


def load_mapping(text: str) -> dict[str, str]:
    """A mapping file: JSON object, the file's header → one of our headers or field names."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise ImportRefused("対応表ファイルが JSON として読めません。") from None
    mapping = {}
    for theirs, ours in raw.items() if isinstance(raw, dict) else []:
        field = _ALIASES.get(_key(ours)) or (ours if ours in FIELDS else None)
        if field is None:
            raise ImportRefused("対応表の「${ours}」は取り込める項目ではありません。", ours=ours)
        mapping[_key(theirs)] = field
    return mapping


def map_header(header: list[str], mapping: dict | None = None):
    """(field per column or None, unknown headers, file kind 'full' | 'status')."""
    mapping = mapping or {}
    fields, unknown, seen = [], [], set()
    for title in header:
        key = _key(title)
        if any(word in key for word in FORBIDDEN):
            raise ImportRefused("「${column}」列があります。個人番号（マイナンバー）は取り込めません。"
                                "この列を削除してから取り込んでください。", column=title)
        field = mapping.get(key) or _ALIASES.get(key)
        if field in seen:
            raise ImportRefused("「${column}」にあたる列が2つあります。", column=title)
        if field:
            seen.add(field)
        else:
            unknown.append(title)
        fields.append(field)
    kind = "full" if "name" in seen else "status"
    missing = [f for f in (FULL_REQUIRED if kind == "full" else STATUS_REQUIRED) if f not in seen]
    if missing:
        raise ImportRefused("必須の列がありません: ${columns}",
                            columns="、".join(FIELDS[f][0] for f in missing))
    return fields, unknown, kind
