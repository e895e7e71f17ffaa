"""The hand-over between the three steps of a publication, each its own OS user.

    builder ──built/──▶ signer ──signed/──▶ pusher ──results/──▶ recorder (the builder's user)

- ``built/``: ``table.bin`` (the sorted, keyed entries: no name, no receipt number, no birth
  date) and ``manifest.json`` (the unsigned header, the body's length and SHA-256, which
  publication it is, and the audit head to be signed). Written by the builder, read by the
  signer.
- ``signed/``: ``snapshot-SEQUENCE.bin``, the signed snapshot. Written by the signer, read by
  the pusher.
- ``results/``: ``result.json``, what the pusher did with it at each destination. Written by
  the pusher, read by the recorder, which puts it in the database and the audit chain.

Catch-up (a public host that missed the current publication): on a run with nothing newly
approved, the builder's manifest names the current publication and what each destination
last received (``catch_up``); the signer keeps that publication's signed file in ``signed/``
and puts the plan beside it (``catch-up.json``); the pusher sends the same file again to the
destinations that hold an older one (``kind: redelivery`` in its report).

Each reader treats what it reads as hostile: it comes from a process with other rights, and
the one writing ``results/`` has just talked to the internet. Files are opened without
following links, sized before they are read, parsed with caps, and every refusal says, in
Japanese, which file and which field and why (``SpoolRefused``). Every file appears under its
final name complete or not at all (``write_atomically``).
"""

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transfer.errors import MalformedSnapshot
from transfer.files import write_atomically
from transfer.snapshot import entry_layout
from transfer.verify import DEFAULT_MAX_SIZE

BUILT, SIGNED, RESULTS = "built", "signed", "results"
MANIFEST, TABLE, RESULT = "manifest.json", "table.bin", "result.json"
CATCH_UP = "catch-up.json"
MAX_CATCH_UP = 64 * 1024
# A delivery of a newly signed publication, or the same file again to hosts that missed it.
DELIVERY, REDELIVERY = "delivery", "redelivery"
REPORT_ID = re.compile(r"[0-9a-f]{32}")
KIND, VERSION = "shinsei-transfer-spool", 1
# The wording of every programme and status fits many times over; a bigger file is not ours.
MAX_MANIFEST = 4 * 1024 * 1024
MAX_RESULT = 256 * 1024
SNAPSHOT_NAME = re.compile(r"snapshot-(\d{1,19})\.bin")
HEX64 = re.compile(r"[0-9a-f]{64}")
DELIVERY_FIELDS = ("destination", "delivered", "reason", "host_key_fingerprint", "attempts")
# A public host's usage counts, fetched by the pusher, kept unread beside its report.
USAGE_NAME = re.compile(r"usage-(\d{1,2})\.json")


class SpoolRefused(Exception):
    """A spool file that is missing, too big, not a regular file, or not what its reader
    expects; the message names the file, the field and why (in Japanese, for the operator)."""


@dataclass(frozen=True)
class Built:
    """What the builder hands the signer. ``header`` is None when nothing was approved: the
    run then only has the audit head signed."""

    manifest: dict[str, Any]
    body: bytes

    @property
    def header(self) -> dict[str, Any] | None:
        header: dict[str, Any] | None = self.manifest["header"]
        return header

    @property
    def sequence(self) -> int | None:
        return None if self.header is None else int(self.header["sequence"])

    @property
    def catch_up(self) -> dict[str, Any] | None:
        """The current publication for hosts that missed it (only when nothing new is
        signed): {publication, sequence, content_digest, held: {destination: sequence}}."""
        catch_up: dict[str, Any] | None = self.manifest.get("catch_up")
        return catch_up


def directories(root: Path) -> dict[str, Path]:
    return {name: Path(root) / name for name in (BUILT, SIGNED, RESULTS)}


def snapshot_name(sequence: int) -> str:
    return f"snapshot-{sequence}.bin"


# ---- the builder's side -------------------------------------------------------------------

def write_built(directory: Path, *, header: dict[str, Any] | None, body: bytes,
                entry_count: int, skipped: int, publication: dict[str, Any] | None,
                checkpoint: dict[str, Any], catch_up: dict[str, Any] | None = None) -> None:
    """The table first, then the manifest naming its hash: a signer that sees the new
    manifest sees the table it describes, or refuses the mismatch."""
    directory = Path(directory)
    for old in (TABLE, MANIFEST):
        (directory / old).unlink(missing_ok=True)
    if header is not None:
        write_atomically(directory / TABLE, body)
    manifest = {"kind": KIND, "version": VERSION, "header": header,
                "entry_count": entry_count, "skipped": skipped, "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(), "publication": publication,
                "checkpoint": checkpoint, "catch_up": None if header is not None else catch_up}
    write_atomically(directory / MANIFEST, json.dumps(manifest, ensure_ascii=False,
                                                      sort_keys=True).encode("utf-8"))


# ---- the signer's side --------------------------------------------------------------------

def read_built(directory: Path, max_table: int = DEFAULT_MAX_SIZE) -> Built:
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    manifest = _json_object(manifest_path, read_capped(manifest_path, MAX_MANIFEST))
    _expect(manifest_path, manifest, "kind", str, lambda v: v == KIND, f"{KIND!r} であること")
    _expect(manifest_path, manifest, "version", int, lambda v: v == VERSION, f"{VERSION} であること")
    _expect(manifest_path, manifest, "checkpoint", dict)
    _checkpoint_fields(manifest_path, manifest["checkpoint"])
    if manifest.get("header") is None:
        if manifest.setdefault("catch_up", None) is not None:
            _expect(manifest_path, manifest, "catch_up", dict)
            _catch_up_fields(manifest_path, manifest["catch_up"], "catch_up.")
        return Built(manifest, b"")
    manifest["catch_up"] = None            # a new publication goes to every destination
    _expect(manifest_path, manifest, "header", dict)
    _expect(manifest_path, manifest["header"], "sequence", int, lambda v: 0 < v < 2 ** 63,
            "正の整数であること", where="header.")
    _expect(manifest_path, manifest, "entry_count", int, lambda v: v >= 0, "0 以上であること")
    _expect(manifest_path, manifest, "skipped", int, lambda v: v >= 0, "0 以上であること")
    _expect(manifest_path, manifest, "body_length", int,
            lambda v: 0 <= v <= max_table, f"0 以上 {max_table} バイト以下であること")
    _expect(manifest_path, manifest, "body_sha256", str, HEX64.fullmatch, "16 進 64 桁であること")
    try:
        size = entry_layout(manifest["header"].get("format")).size
    except MalformedSnapshot:
        raise SpoolRefused(f"{manifest_path}: header.format "
                           f"{manifest['header'].get('format')!r} は扱えない形式です") from None
    if manifest["body_length"] != manifest["entry_count"] * size:
        raise SpoolRefused(f"{manifest_path}: body_length {manifest['body_length']} が "
                           f"entry_count {manifest['entry_count']} × {size} バイトと合いません")
    publication = manifest.get("publication")
    if not (isinstance(publication, dict) and type(publication.get("id")) is int
            and isinstance(publication.get("content_digest"), str)):
        raise SpoolRefused(f"{manifest_path}: publication に id（整数）と content_digest"
                           "（文字列）がありません")
    table_path = directory / TABLE
    body = read_capped(table_path, manifest["body_length"])
    if len(body) != manifest["body_length"]:
        raise SpoolRefused(f"{table_path}: {len(body)} バイトです（manifest.json では "
                           f"{manifest['body_length']} バイト）")
    if hashlib.sha256(body).hexdigest() != manifest["body_sha256"]:
        raise SpoolRefused(f"{table_path}: SHA-256 が manifest.json の body_sha256 と合いません")
    return Built(manifest, body)


def _checkpoint_fields(path: Path, checkpoint: dict[str, Any]) -> None:
    _expect(path, checkpoint, "count", int, lambda v: v >= 0, "0 以上であること",
            where="checkpoint.")
    _expect(path, checkpoint, "head_hash", str, HEX64.fullmatch, "16 進 64 桁であること",
            where="checkpoint.")
    _expect(path, checkpoint, "at", str, lambda v: len(v) <= 40, "40 文字以内であること",
            where="checkpoint.")


def _catch_up_fields(path: Path, catch_up: dict[str, Any], where: str) -> None:
    _expect(path, catch_up, "publication", int, lambda v: 0 < v < 2 ** 63, "正の整数であること",
            where=where)
    _expect(path, catch_up, "sequence", int, lambda v: 0 < v < 2 ** 63, "正の整数であること",
            where=where)
    _expect(path, catch_up, "content_digest", str, lambda v: len(v) <= 64,
            "64 文字以内であること", where=where)
    _expect(path, catch_up, "held", dict, lambda v: len(v) <= 64, "64 件以内であること",
            where=where)
    for destination, sequence in catch_up["held"].items():
        if not 0 < len(destination) <= 255 or type(sequence) is not int \
                or not 0 < sequence < 2 ** 63:
            raise SpoolRefused(f"{path}: {where}held の {destination[:80]!r} は 1〜255 文字の"
                               f"転送先と正の整数であること（{str(sequence)[:40]!r}）")


def write_catch_up(directory: Path, catch_up: dict[str, Any]) -> None:
    """The signer: the plan beside the signed file it names."""
    write_atomically(Path(directory) / CATCH_UP,
                     json.dumps(catch_up, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def remove_catch_up(directory: Path) -> None:
    (Path(directory) / CATCH_UP).unlink(missing_ok=True)


# ---- the pusher's side --------------------------------------------------------------------

def read_catch_up(directory: Path) -> dict[str, Any] | None:
    """The signer's catch-up plan, checked field by field; None if there is none."""
    path = Path(directory) / CATCH_UP
    if not path.exists() and not path.is_symlink():
        return None
    catch_up = _json_object(path, read_capped(path, MAX_CATCH_UP))
    _catch_up_fields(path, catch_up, "")
    return catch_up


def newest_signed(directory: Path) -> tuple[int, Path] | None:
    """The signed snapshot with the highest sequence; names that are not ours are ignored."""
    found = signed_files(directory)
    return found[0] if found else None


def signed_files(directory: Path) -> list[tuple[int, Path]]:
    """Every file named as a signed snapshot, highest sequence first. A name is only a
    claim: whoever can write the folder can name a file anything (the pusher verifies)."""
    return sorted(((int(m.group(1)), entry) for entry in Path(directory).iterdir()
                   if (m := SNAPSHOT_NAME.fullmatch(entry.name))), reverse=True)


def write_result(directory: Path, result: dict[str, Any]) -> None:
    write_atomically(Path(directory) / RESULT,
                     json.dumps(result, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def clear_usage(directory: Path) -> None:
    for old in Path(directory).iterdir():
        if USAGE_NAME.fullmatch(old.name):
            old.unlink()


def write_usage(directory: Path, number: int, data: bytes) -> dict[str, Any]:
    """The fetched bytes as they came (the recorder checks them); the report names them."""
    name = f"usage-{number}.json"
    write_atomically(Path(directory) / name, data)
    return {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


# ---- the recorder's side ------------------------------------------------------------------

def read_result(directory: Path) -> dict[str, Any] | None:
    """The pusher's last result, checked field by field; None if there is none."""
    path = Path(directory) / RESULT
    if not path.exists() and not path.is_symlink():
        return None
    result = _json_object(path, read_capped(path, MAX_RESULT))
    _expect(path, result, "sequence", int, lambda v: 0 < v < 2 ** 63, "正の整数であること")
    _expect(path, result, "verified", bool)
    _expect(path, result, "reason", str, lambda v: len(v) <= 4000, "4000 文字以内であること")
    _expect(path, result, "deliveries", list, lambda v: len(v) <= 64, "64 件以内であること")
    for number, delivery in enumerate(result["deliveries"]):
        where = f"deliveries[{number}]."
        if not isinstance(delivery, dict):
            raise SpoolRefused(f"{path}: {where[:-1]} が辞書ではありません")
        _expect(path, delivery, "destination", str, lambda v: 0 < len(v) <= 255,
                "1〜255 文字であること", where=where)
        _expect(path, delivery, "delivered", bool, where=where)
        _expect(path, delivery, "reason", str, lambda v: len(v) <= 2000,
                "2000 文字以内であること", where=where)
        _expect(path, delivery, "host_key_fingerprint", str, lambda v: len(v) <= 80,
                "80 文字以内であること", where=where)
        _expect(path, delivery, "attempts", int, lambda v: 0 <= v <= 100,
                "0〜100 であること", where=where)
    result["usage"] = [_usage_line(path, d, f"deliveries[{number}].usage.")
                       for number, d in enumerate(result["deliveries"])]
    # Only the fields named above are passed on, whatever else the file holds.
    result["deliveries"] = [{name: d[name] for name in DELIVERY_FIELDS}
                            for d in result["deliveries"]]
    if result.setdefault("audit_checkpoint", None) is not None:
        _expect(path, result, "audit_checkpoint", int, lambda v: v >= 0, "0 以上であること")
    result.setdefault("pushed_by", "")
    _expect(path, result, "pushed_by", str, lambda v: len(v) <= 255, "255 文字以内であること")
    # Reports written before catch-up existed are deliveries without an id.
    result.setdefault("kind", DELIVERY)
    _expect(path, result, "kind", str, lambda v: v in (DELIVERY, REDELIVERY),
            f"{DELIVERY!r} か {REDELIVERY!r} であること")
    result.setdefault("report", "")
    _expect(path, result, "report", str,
            lambda v: REPORT_ID.fullmatch(v) or (v == "" and result["kind"] == DELIVERY),
            "16 進 32 桁であること")
    if result["verified"]:
        _expect(path, result, "sha256", str, HEX64.fullmatch, "16 進 64 桁であること")
        _expect(path, result, "size", int, lambda v: v > 0, "正の整数であること")
        _expect(path, result, "entries", int, lambda v: v >= 0, "0 以上であること")
        _expect(path, result, "signing_key_ids", list,
                lambda v: len(v) <= 16 and all(isinstance(k, str) and len(k) <= 64 for k in v),
                "16 件以内の文字列であること")
        _expect(path, result, "content_digest", str, lambda v: len(v) <= 64,
                "64 文字以内であること")
    return result


def _usage_line(path: Path, delivery: dict[str, Any], where: str) -> dict[str, Any]:
    """What the pusher says it fetched from this destination: a file beside the report (its
    name, SHA-256 and size), or why nothing was fetched; reports without it fetched nothing."""
    usage = delivery.get("usage", {"reason": ""})
    if not isinstance(usage, dict):
        raise SpoolRefused(f"{path}: {where[:-1]} が辞書ではありません")
    if "file" not in usage:
        _expect(path, usage, "reason", str, lambda v: len(v) <= 500, "500 文字以内であること",
                where=where)
        return {"destination": delivery["destination"], "file": "", "reason": usage["reason"]}
    _expect(path, usage, "file", str, USAGE_NAME.fullmatch, "usage-N.json であること",
            where=where)
    _expect(path, usage, "sha256", str, HEX64.fullmatch, "16 進 64 桁であること", where=where)
    return {"destination": delivery["destination"], "file": usage["file"],
            "sha256": usage["sha256"], "reason": ""}


def read_usage(directory: Path, line: dict[str, Any], cap: int) -> bytes:
    """The usage file a report line names, capped, and only if it is the one reported."""
    path = Path(directory) / line["file"]
    data = read_capped(path, cap)
    if hashlib.sha256(data).hexdigest() != line["sha256"]:
        raise SpoolRefused(f"{path}: SHA-256 が result.json の記載と合いません")
    return data


# ---- shared -------------------------------------------------------------------------------

def read_capped(path: Path, cap: int) -> bytes:
    """A regular file's bytes, at most ``cap`` of them, never through a link (a link placed
    by another step's user must not make this one read what only it can read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SpoolRefused(f"{path}: ファイルがありません") from None
    except OSError as error:
        raise SpoolRefused(f"{path}: 開けません（{error.strerror}。リンクは辿りません）") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SpoolRefused(f"{path}: 通常のファイルではありません")
        if info.st_size > cap:
            raise SpoolRefused(f"{path}: {info.st_size} バイトは上限 {cap} バイトを超えています"
                               "（読まずに拒否しました）")
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise SpoolRefused(f"{path}: 読んでいる間に上限 {cap} バイトを超えました")
    return data


def _json_object(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise SpoolRefused(f"{path}: UTF-8 ではありません（{error.start} バイト目）") from None
    except RecursionError:
        raise SpoolRefused(f"{path}: JSON の入れ子が深すぎます") from None
    except json.JSONDecodeError as error:
        raise SpoolRefused(f"{path}:{error.lineno}: JSON として読めません（{error.msg}）") from None
    if not isinstance(value, dict):
        raise SpoolRefused(f"{path}: JSON のオブジェクトではありません")
    return value


def _expect(path: Path, value: dict[str, Any], name: str, kind: type,
            check: Callable[[Any], Any] | None = None, wanted: str = "",
            where: str = "") -> None:
    if name not in value:
        raise SpoolRefused(f"{path}: {where}{name} がありません")
    item = value[name]
    # bool is an int to Python; a "count": true must not pass for a number.
    if type(item) is not kind and not (kind is dict and isinstance(item, dict)):
        raise SpoolRefused(f"{path}: {where}{name} は {kind.__name__} であるべきです"
                           f"（{type(item).__name__} でした）")
    if check is not None and not check(item):
        raise SpoolRefused(f"{path}: {where}{name} は {wanted}（{str(item)[:80]!r}）")


def prepare(root: Path) -> None:
    """The three folders, for one process running every step (a demo machine, tests).
    Deployed, the installer makes them, each owned by its writer and readable by its reader
    only (deploy/README.md)."""
    for folder in directories(root).values():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
