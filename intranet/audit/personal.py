"""Personal values named by audit records, kept beside the chain so disposal can cut them.

An audit record that concerns applicants (a receipt number, a free-text reason, a
deficiency note, an export's filter, an import's file name) carries in its hashed details
only ``personal``: the SHA-256 over the side rows, each a random salt, what it is linked
to and the values. The chain therefore stays checkable after disposal deletes a
programme's side rows, and what remains in the chain (a salted digest) says nothing about
the applicant.

A side row is linked to one application (a change, a view, an import's move) or to one
programme (a search's typed values, an import's file name): disposal of the programme
cuts both. ``PERSONAL_KEYS`` names every detail that may never sit in the chain itself;
the writer refuses a record carrying one, and a unit test reads every ``writer.append``.
"""

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Index, String, Text, delete
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base
from transfer.envelope import canonical_text

# The one list: details (and export filters) naming an applicant or typed about one. Some
# words are used for staff-side things too (a layout's name): those records say
# ``layout``, so a key here always means the applicant's value.
PERSONAL_KEYS = frozenset({
    "receipt", "receipts", "receipt_number", "receipt_number_normalised",
    "name", "kana", "birth", "birth_date", "phone", "address", "account", "notes",
    "deficiency_reason", "search_key", "moved", "filename",
})
# Details whose value is itself a mapping of keys that must pass the same test.
NESTED = ("filter",)


class PersonalInChain(ValueError):
    """A programming error: a personal value handed to the chain instead of beside it."""


def refuse_personal(details: Mapping[str, Any]) -> None:
    """Raise if ``details`` would put a personal key inside the hashed record."""
    for key, value in details.items():
        if key in PERSONAL_KEYS:
            raise PersonalInChain(f"audit detail {key!r} is personal: pass it as personal=")
        if key in NESTED and isinstance(value, Mapping):
            refuse_personal(value)


class AuditPersonal(Base):
    __tablename__ = "audit_personal"
    __table_args__ = (Index("ix_audit_personal_application", "application_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(index=True)
    # Exactly one of the two is set (migration 0019 added the programme link).
    application_id: Mapped[int | None]
    programme_id: Mapped[int | None] = mapped_column(index=True)
    salt: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)


def rows_for(values: Mapping[int, Mapping[str, Any]] | None = None,
             programmes: Mapping[int, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Side rows (without seq), each with its own salt: {application id: values} and
    {programme id: values}."""
    applications = sorted((values or {}).items())
    programme_rows = sorted((programmes or {}).items())
    salts = _salts(len(applications) + len(programme_rows))
    rows = [{"application_id": app_id, "programme_id": None, "salt": next(salts),
             "value": _value_text(value)} for app_id, value in applications]
    rows += [{"application_id": None, "programme_id": programme_id,
              "salt": next(salts), "value": canonical_text(value)}
             for programme_id, value in programme_rows]
    return rows


def _value_text(value: Any) -> str:
    """``canonical_text(value)``, written out for a mapping of text to text (an import's or
    a bulk change's {"move", "receipt"} per application): keys sorted, each key and value
    quoted by the encoder's own function. Any other value goes the defining way."""
    if type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
        return "{" + ",".join([f"{_quoted(k)}:{_quoted(value[k])}" for k in sorted(value)]) + "}"
    return canonical_text(value)


def _salts(count: int):
    """``count`` salts of 16 random bytes in hex, as ``secrets.token_hex(16)`` makes each,
    from one read of the system's random source (a bank file names 50,000 applications)."""
    text = os.urandom(_SALT_BYTES * count).hex()
    step = 2 * _SALT_BYTES
    return (text[at:at + step] for at in range(0, len(text), step))


_SALT_BYTES = 16


def digest(rows: Iterable[Mapping[str, Any]]) -> str:
    """What the chain holds: one SHA-256 over every side row of the record."""
    # The canonical JSON of the parts sorted by their own canonical JSON, written as the
    # sorted texts joined: each part encoded once (a list's JSON is its items' joined by ",").
    texts = sorted([_application_part(r) if r.get("programme_id") is None
                    else canonical_text(["programme", r["programme_id"], r["salt"], r["value"]])
                    for r in rows])
    return hashlib.sha256(("[" + ",".join(texts) + "]").encode("utf-8")).hexdigest()


def _application_part(row: Mapping[str, Any]) -> str:
    """``canonical_text([application id, salt, value])``, written out for the usual types (a
    bank file names 50,000 applications): an int's JSON is its digits, a string's is the
    encoder's own quoting of it. Any other type goes the defining way."""
    application_id, salt, value = row["application_id"], row["salt"], row["value"]
    if type(application_id) is int and type(salt) is str and type(value) is str:
        return f"[{application_id},{_quoted(salt)},{_quoted(value)}]"
    return canonical_text([application_id, salt, value])


# What the canonical encoder writes for a string (ensure_ascii off): json's own C function.
_quoted = json.encoder.encode_basestring


def _reference_digest(rows: Iterable[Mapping[str, Any]]) -> str:
    """``digest`` as first written (tests hold the two equal)."""
    parts = [[r["application_id"], r["salt"], r["value"]] if r.get("programme_id") is None
             else ["programme", r["programme_id"], r["salt"], r["value"]] for r in rows]
    return hashlib.sha256(canonical_text(sorted(parts, key=canonical_text))
                          .encode("utf-8")).hexdigest()


_COLUMNS = ("seq", "application_id", "programme_id", "salt", "value")
_COPY = f"COPY audit_personal ({', '.join(_COLUMNS)}) FROM STDIN"
_INSERT = (f"INSERT INTO audit_personal ({', '.join(_COLUMNS)}) "  # noqa: S608
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")


def insert(dbsession, seq: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """The side rows of record ``seq``, in their order, in the caller's transaction: one
    ``COPY`` on PostgreSQL, the driver's executemany on SQLite. (The ORM's bulk insert of a
    bank file's 50,000 rows cost about a fifth of the whole import's time.)"""
    values = [(seq, r["application_id"], r["programme_id"], r["salt"], r["value"])
              for r in rows]
    driver = dbsession.connection().connection.driver_connection
    if dbsession.get_bind().dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
            for row in values:
                copy.write_row(row)
    else:
        driver.executemany(_INSERT, values)


def cut(dbsession, application_ids: list[int], programme_id: int | None = None,
        chunk: int = 1000) -> int:
    """Delete the side rows of these applications and of their programme (disposal);
    return how many."""
    removed = 0
    if programme_id is not None:
        removed += dbsession.execute(delete(AuditPersonal).where(
            AuditPersonal.programme_id == programme_id)).rowcount
    for start in range(0, len(application_ids), chunk):
        removed += dbsession.execute(delete(AuditPersonal).where(
            AuditPersonal.application_id.in_(application_ids[start:start + chunk]))).rowcount
    return removed


