"""An application's fields have one set of words: the import's column names
(``intranet.fields``). Every screen, export and record that names a field takes its
word from there, and the exports' headers are ones the import reads back as the same field."""

import ast
import re
from pathlib import Path

from intranet.applications.exports import EXPORT_HEADER, HISTORY_HEADER
from intranet.disclosures.services import FIELDS as DISCLOSED
from intranet.disposal.erase import ERASED_FIELD_LABELS
from intranet.fields import FIELD_WORDS, FIELDS, words
from intranet.imports.columns import map_header
from intranet.oversight.labels import CODES, DETAILS, NEEDS
from intranet.web import LABELS

ROOT = Path(__file__).resolve().parents[3]
HOME = ROOT / "intranet" / "fields.py"


def test_each_field_s_word_is_its_first_column_name():
    assert {field: names[0] for field, names in FIELDS.items()} == FIELD_WORDS
    assert words("name", "received_on") == ["氏名", "申請日"]


def test_the_tables_that_name_a_field_take_its_word_from_the_import():
    assert LABELS["field_labels"] is FIELD_WORDS
    disclosed = {("status" if attribute == "status_code" else attribute): label
                 for label, attribute in DISCLOSED}
    # Not a field's word: the kinds as the audit records them (the set's number) and the
    # name a saved layout is given.
    elsewhere = {"deficiency_kinds", "name"}
    for table, other in ((disclosed, set()), (ERASED_FIELD_LABELS, set()), (DETAILS, elsewhere)):
        fields = set(table) & set(FIELD_WORDS) - other
        assert {k: table[k] for k in fields} == {k: FIELD_WORDS[k] for k in fields}
    assert NEEDS == ("振込予定日", "振込日", "不備内容")
    assert CODES["filters"]["birth"] == FIELD_WORDS["birth_date"]


def test_the_list_export_s_header_is_read_back_by_the_import_as_the_fields_it_wrote():
    header = EXPORT_HEADER
    plan = map_header(header)
    named = {FIELD_WORDS[field]: field for field in FIELD_WORDS}
    for title, field in plan.pairs:
        assert field == named.get(title), f"{title} read as {field}"
    assert plan.unused == [title for title in header if title not in named]


def test_the_history_export_names_its_dates_as_the_import_does():
    assert HISTORY_HEADER[0] == FIELD_WORDS["receipt_number"]
    assert HISTORY_HEADER[-2:] == words("scheduled_payment_on", "paid_on")


def test_the_list_export_carries_every_field_of_an_applicant_list():
    plan = map_header(EXPORT_HEADER)
    assert plan.kind == "full"
    assert set(FIELD_WORDS) == {field for field in plan.fields if field}


def _copies(path: Path, root: Path = ROOT) -> list[str]:
    """Literal pairs (field, its word) or (its word, field) written outside the one home."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        pairs = []
        if isinstance(node, ast.Dict):
            pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k]
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            pairs = [tuple(node.elts), tuple(reversed(node.elts))]
        for key, value in pairs:
            if isinstance(key, ast.Constant) and isinstance(value, ast.Constant) \
                    and isinstance(key.value, str) and key.value in FIELD_WORDS \
                    and FIELD_WORDS[key.value] == value.value:
                found.append(f"{path.relative_to(root)}:{node.lineno} {key.value}")
    return found


def test_no_module_keeps_its_own_table_of_field_words():
    modules = [path for path in sorted((ROOT / "intranet").rglob("*.py")) if path != HOME]
    assert HOME.exists() and len(modules) > 100      # the tree read is the product's
    assert [copy for path in modules for copy in _copies(path)] == []


# A template names a field through ``field_labels`` (intranet.web's globals), never by a
# word of its own; what is not the field keeps its word (the disposal decision's own note).
NOT_THE_FIELD = {("disposal/record.jinja2", "備考")}


def _template_words(root: Path) -> list[str]:
    quoted = re.compile(r"""_\((['"])(.+?)\1\)""")
    found = []
    for path in sorted((root / "intranet" / "templates").rglob("*.jinja2")):
        name = path.relative_to(root / "intranet" / "templates").as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{name}:{number} {word}" for _q, word in quoted.findall(line)
                      if word in FIELD_WORDS.values() and (name, word) not in NOT_THE_FIELD]
    return found


def test_no_template_writes_a_field_s_word_itself():
    assert _template_words(ROOT) == []


def test_a_template_writing_a_field_s_word_would_be_caught(tmp_path):
    page = tmp_path / "intranet" / "templates" / "applications" / "detail.jinja2"
    page.parent.mkdir(parents=True)
    page.write_text("<th>{{ _(field_labels.status) }}</th>\n<th>{{ _('振込日') }}</th>\n")
    assert _template_words(tmp_path) == ["applications/detail.jinja2:2 振込日"]


def test_a_copied_table_would_be_caught(tmp_path):
    written = tmp_path / "labels.py"
    written.write_text('LABELS = {"name": "氏名"}\nPAIRS = [("申請日", "received_on")]\n')
    assert [c.split(" ")[1] for c in _copies(written, tmp_path)] == ["name", "received_on"]

