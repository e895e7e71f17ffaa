"""Values beside the chain: the chain holds only a salted digest, so cutting the values
leaves it verifiable and says nothing of the applicant; and no personal value is ever
handed to the chain itself — by any ``writer.append`` in the code, or at run time."""

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intranet.audit import personal, writer
from intranet.audit.models import AuditRecord
from transfer.envelope import canonical_text

ROOT = Path(__file__).resolve().parents[4]
SIDE = ("personal", "programme_personal")


def test_each_row_has_its_own_salt_and_the_digest_hides_the_value():
    rows = personal.rows_for({2: {"receipt": "12345678"}, 1: {"receipt": "12345678"}})
    assert [r["application_id"] for r in rows] == [1, 2]
    assert rows[0]["salt"] != rows[1]["salt"] and len(rows[0]["salt"]) == 32
    digest = personal.digest(rows)
    assert "12345678" not in digest and len(digest) == 64
    # The same value twice never gives the same digest: no dictionary of receipts helps.
    again = personal.rows_for({1: {"receipt": "12345678"}, 2: {"receipt": "12345678"}})
    assert personal.digest(again) != digest


def test_the_digest_changes_with_any_value_and_not_with_row_order():
    rows = personal.rows_for({1: {"reason": "a"}, 2: {"reason": "b"}}, {1: {"filename": "c"}})
    assert personal.digest(list(reversed(rows))) == personal.digest(rows)
    edited = [dict(rows[0], value='{"reason":"x"}'), *rows[1:]]
    assert personal.digest(edited) != personal.digest(rows)
    # A programme's row is not an application's row with the same number.
    moved = [*rows[:2], dict(rows[2], application_id=1, programme_id=None)]
    assert personal.digest(moved) != personal.digest(rows)


def test_a_programme_row_is_linked_to_the_programme_alone():
    [row] = personal.rows_for(programmes={7: {"filter": {"birth": "1980-01-02"}}})
    assert row["application_id"] is None and row["programme_id"] == 7
    assert json.loads(row["value"]) == {"filter": {"birth": "1980-01-02"}}


# -- no personal key in the chain: every call in the code ------------------------------

def personal_keys_in(source: str, filename: str = "<code>") -> list[tuple[int, str]]:
    """(line, key) of every personal key a ``writer.append`` call puts in the chain: its
    keyword names, the keys of dict literals (and ``dict(...)`` keywords) in their values,
    and the keys of a dict literal assigned to a name it expands with ``**``."""
    tree = ast.parse(source, filename)
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append" and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "writer"):
            continue
        for keyword in node.keywords:
            if keyword.arg in SIDE:
                continue
            if keyword.arg is not None:
                found += [(node.lineno, keyword.arg)] if keyword.arg in personal.PERSONAL_KEYS \
                    else []
                found += _keys_inside(keyword.value, node.lineno)
            elif isinstance(keyword.value, ast.Name):      # **details
                for value in assigned.get(keyword.value.id, []):
                    found += _keys_inside(value, node.lineno)
            else:
                found += _keys_inside(keyword.value, node.lineno)
    return found


def _keys_inside(value: ast.AST, line: int) -> list[tuple[int, str]]:
    keys = []
    for node in ast.walk(value):
        if isinstance(node, ast.Dict):
            keys += [k.value for k in node.keys if isinstance(k, ast.Constant)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "dict":
            keys += [k.arg for k in node.keywords if k.arg]
    return [(line, key) for key in keys if key in personal.PERSONAL_KEYS]


def test_no_writer_append_in_the_code_puts_a_personal_key_in_the_chain():
    calls, found = 0, []
    for path in sorted((ROOT / "intranet").rglob("*.py")):
        source = path.read_text()
        calls += source.count("writer.append(")
        found += [(str(path.relative_to(ROOT)), line, key)
                  for line, key in personal_keys_in(source, str(path))]
    assert calls > 40                  # the scan sees the calls
    assert found == [], "personal values belong beside the chain (personal=...)"


@pytest.mark.parametrize("source", [
    'writer.append(s, a, "application.view", "application:1", receipt=r)',
    'writer.append(s, a, "export", "x", filter={"status": s, "birth": b})',
    'writer.append(s, a, "export", "x", filter=dict(name=n))',
    'details = {"phone": p}\nwriter.append(s, a, "user.request", "", **details)',
    'writer.append(s, a, "import.apply", "", moved={"a→b": ["1234-5678"]})',
])
def test_the_scan_catches_a_new_call_that_would(source):
    assert personal_keys_in(source), source


def test_the_scan_lets_values_beside_the_chain_through():
    assert personal_keys_in('writer.append(s, a, "application.view", "application:1", '
                            'personal={1: {"receipt": r, "name": n}}, '
                            'programme_personal={2: {"filter": {"birth": b}}})') == []


class _NoSession:
    """Any use of the database fails the test: the refusal comes before it."""

    def __getattr__(self, name):
        raise AssertionError(f"the writer touched the database ({name}) before refusing")


@pytest.mark.parametrize("details", [
    {"receipt": "12345678"}, {"birth_date": "1980-01-02"}, {"kana": "ヤマダ"},
    {"filter": {"status": "paid", "birth": "1980-01-02"}}, {"moved": {}},
])
def test_the_writer_refuses_a_personal_key_before_writing(details):
    with pytest.raises(personal.PersonalInChain):
        writer.append(_NoSession(), writer.Actor("t"), "export", "x", **details)


def test_the_list_of_personal_keys_covers_every_erased_application_field():
    from intranet.disposal.erase import ERASED_FIELDS

    columns = {f for f in ERASED_FIELDS if "." not in f} - {"audit_personal", "publication_rows"}
    assert columns <= personal.PERSONAL_KEYS
    assert AuditRecord.__tablename__ == "audit_records"


# -- the digest and salts written fast are the ones written plainly ----------------------

_ROW = st.fixed_dictionaries({
    # A bool is an int to Python and true/false to JSON; the written-out part must not
    # take it (nor a value or salt that is not text) for the usual types.
    "application_id": st.one_of(st.none(), st.integers(-2**40, 2**40), st.booleans()),
    "programme_id": st.one_of(st.none(), st.integers(0, 2**40)),
    "salt": st.one_of(st.text(max_size=40), st.integers()),
    "value": st.one_of(st.text(max_size=40), st.none(), st.integers())})


@settings(max_examples=300, deadline=None)
@given(st.lists(_ROW, max_size=8))
def test_the_digest_is_the_reference_digest(rows):
    """Each part encoded once and the sorted texts joined = the parts sorted by their
    canonical text and encoded as one list, for any values (quotes, controls, 髙, ties)."""
    assert personal.digest(rows) == personal._reference_digest(rows)


def test_salts_are_16_random_bytes_in_hex_each():
    rows = personal.rows_for({n: {"receipt": "1"} for n in range(1, 1001)}, {1: {"f": "x"}})
    salts = [row["salt"] for row in rows]
    assert len(salts) == 1001 and len(set(salts)) == 1001
    assert all(len(salt) == 32 and int(salt, 16) >= 0 and salt == salt.lower() for salt in salts)


_VALUE = st.one_of(
    st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=5),
    st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=8), st.integers(),
                                                    st.none(), st.booleans()), max_size=5),
    st.text(max_size=20), st.integers(), st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=300, deadline=None)
@given(_VALUE)
def test_a_side_rows_value_is_its_canonical_text(value):
    """Written out for text-to-text mappings, the defining way for anything else: the same
    text (sorted keys, quotes, controls, 髙, empty keys)."""
    [row] = personal.rows_for({1: value})
    assert row["value"] == canonical_text(value)
