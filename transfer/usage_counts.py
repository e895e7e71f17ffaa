"""The public hosts' daily usage counts: the one file that travels back to the intranet.

The public host writes it (``public_mirror.usage``) into a folder of the upload account's
chroot that the account may read and nothing more; the pusher fetches it in the SFTP session
it opened to deliver a snapshot — the intranet still makes every connection — and the
recorder stores it (``intranet.usage``). Only integers per programme and day cross:

    {"format": "shinsei-usage-counts", "version": 1,
     "counts": [{"day": "2026-12-01", "programme": "KYUFU", "lookups": 120, "found": 101,
                 "not_found": 19, "limited": 2}, ...]}

``lookups`` = ``found`` + ``not_found`` (answers given); ``limited`` = questions refused by
the rate limit (not among the lookups).

The host faces the internet and may be taken over, so ``read`` treats the file as hostile:
size cap before parsing, no duplicate keys, no floats or NaN, bounded nesting, exact keys,
integers within a sane bound, days within a window and not in the future, programme codes
the intranet knows — and no string anywhere that could be a receipt number. A refusal says
why in Japanese and never repeats a string from the file (it could name a resident).
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from transfer.receipt import InvalidReceiptNumber, parse_receipt_number

FORMAT, VERSION = "shinsei-usage-counts", 1
TOP_KEYS = frozenset({"format", "version", "counts"})
COUNTS = ("lookups", "found", "not_found", "limited")
ROW_KEYS = frozenset({"day", "programme", *COUNTS})
MAX_SIZE = 64 * 1024          # 31 days × a dozen programmes fits several times over
MAX_ROWS = 1000
MAX_COUNT = 10 ** 9           # a day's answers from one host stay far below this
MAX_DEPTH = 3                 # object → list → object
DAYS_WRITTEN = 31             # the public host writes its last month
WINDOW_DAYS = 62              # the recorder accepts two months back (a host unreached a while)
RECEIPT_DIGITS = 4            # a string with this many digits in a receipt's shape could be one
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
JAPAN = timezone(timedelta(hours=9))


class UsageRefused(ValueError):
    """The usage file is not what a public host writes; the message says why (Japanese)."""


@dataclass(frozen=True)
class DayCount:
    day: date
    programme: str
    lookups: int
    found: int
    not_found: int
    limited: int


def today_in_japan(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(JAPAN).date()


def encode(rows: list[DayCount]) -> bytes:
    """The file as the public host writes it: sorted, compact, ASCII."""
    counts = [{"day": r.day.isoformat(), "programme": r.programme,
               **{name: getattr(r, name) for name in COUNTS}}
              for r in sorted(rows, key=lambda r: (r.day, r.programme))]
    return json.dumps({"format": FORMAT, "version": VERSION, "counts": counts},
                      sort_keys=True, separators=(",", ":")).encode("ascii")


def read(data: bytes, programmes: frozenset[str] | set[str], today: date) -> list[DayCount]:
    """The rows of a usage file, or ``UsageRefused`` naming the first thing wrong."""
    if len(data) > MAX_SIZE:
        raise UsageRefused(f"{len(data)} バイトは上限 {MAX_SIZE} バイトを超えています")
    value = _parse(data)
    _no_receipt_like_string(value, programmes)
    if not isinstance(value, dict) or set(value) != TOP_KEYS:
        raise UsageRefused("最上位の項目が format・version・counts の 3 つちょうどではありません")
    if value["format"] != FORMAT or type(value["version"]) is not int \
            or value["version"] != VERSION:
        raise UsageRefused(f"format が {FORMAT!r}、version が {VERSION} ではありません")
    counts = value["counts"]
    if not isinstance(counts, list) or len(counts) > MAX_ROWS:
        raise UsageRefused(f"counts が {MAX_ROWS} 件以内の一覧ではありません")
    rows, seen = [], set()
    for number, row in enumerate(counts, start=1):
        parsed = _row(row, number, programmes, today)
        if (parsed.day, parsed.programme) in seen:
            raise UsageRefused(f"counts の {number} 件目: 同じ日・同じ事業の行が 2 つあります")
        seen.add((parsed.day, parsed.programme))
        rows.append(parsed)
    return rows


def _parse(data: bytes) -> Any:
    if _depth(data) > MAX_DEPTH:
        raise UsageRefused(f"JSON の入れ子が {MAX_DEPTH} 段を超えています")
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_unique_keys,
                          parse_float=_no_float, parse_constant=_no_float)
    except UnicodeDecodeError as error:
        raise UsageRefused(f"UTF-8 ではありません（{error.start} バイト目）") from None
    except json.JSONDecodeError as error:
        raise UsageRefused(f"{error.lineno} 行目: JSON として読めません（{error.msg}）") from None


def _depth(data: bytes) -> int:
    """The deepest nesting of brackets outside strings, counted before parsing (a file of
    ``[[[[…`` must cost a scan, not the parser's recursion)."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:          # backslash
                escaped = True
            elif byte == 0x22:          # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):      # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise UsageRefused("同じ項目名が 1 つのオブジェクトに 2 回あります")
    return dict(pairs)


def _no_float(text: str) -> Any:
    raise UsageRefused("整数でない数（小数・指数・NaN・Infinity）があります")


def _no_receipt_like_string(value: Any, programmes: frozenset[str] | set[str]) -> None:
    """Every string in the file — key or value — is one of the format's own words, a day,
    or a programme code the intranet knows; anything else shaped like a receipt number is
    refused for that reason alone (and the string is not repeated in the reason)."""
    expected = TOP_KEYS | ROW_KEYS | {FORMAT} | set(programmes)
    for text in _strings(value):
        if text in expected or ISO_DAY.fullmatch(text):
            continue
        try:
            normalised = parse_receipt_number(text)
        except InvalidReceiptNumber:
            continue
        # Receipt numbers carry digits; a word such as "address" has the shape but none (and
        # is refused all the same by the exact keys below, without being repeated either).
        if sum(c.isdigit() for c in normalised) < RECEIPT_DIGITS:
            continue
        raise UsageRefused("受付番号と読める文字列が含まれています（内容は記録しません）")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _row(row: Any, number: int, programmes: frozenset[str] | set[str], today: date) -> DayCount:
    where = f"counts の {number} 件目"
    if not isinstance(row, dict):
        raise UsageRefused(f"{where} がオブジェクトではありません")
    if set(row) != ROW_KEYS:
        missing, extra = ROW_KEYS - set(row), len(set(row) - ROW_KEYS)
        raise UsageRefused(f"{where}: 項目が違います（不足: {'・'.join(sorted(missing)) or 'なし'}、"
                           f"余分: {extra} 個）")
    for name in COUNTS:
        if type(row[name]) is not int or not 0 <= row[name] <= MAX_COUNT:
            raise UsageRefused(f"{where}: {name} が 0 以上 {MAX_COUNT:,} 以下の整数ではありません")
    if row["found"] + row["not_found"] != row["lookups"]:
        raise UsageRefused(f"{where}: found と not_found の和が lookups と合いません")
    return DayCount(_day(row["day"], where, today), _programme(row["programme"], where,
                                                               programmes),
                    *(row[name] for name in COUNTS))


def _day(text: Any, where: str, today: date) -> date:
    if not isinstance(text, str) or not ISO_DAY.fullmatch(text):
        raise UsageRefused(f"{where}: day が YYYY-MM-DD の日付ではありません")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageRefused(f"{where}: day がありえない日付です") from None
    if day > today:
        raise UsageRefused(f"{where}: day が未来の日付です（{day.isoformat()}）")
    if day < today - timedelta(days=WINDOW_DAYS):
        raise UsageRefused(f"{where}: day が {WINDOW_DAYS} 日より前です（{day.isoformat()}）")
    return day


def _programme(code: Any, where: str, programmes: frozenset[str] | set[str]) -> str:
    if not isinstance(code, str) or code not in programmes:
        raise UsageRefused(f"{where}: programme が登録されている事業コードではありません")
    return code
