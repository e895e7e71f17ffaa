"""Import refusals in the English UI are English: a file that cannot be decoded, a column
that looks like a field but is not used, a long line, a bad layout."""

import pytest

from tests.conftest import csrf_token
from tests.factories import make_programme
from tests.functional.test_import_columns import file_of
from tests.functional.test_imports import upload
from tests.visible_text import visible_text


@pytest.fixture
def english(as_role, session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    programme = make_programme(session_factory)
    app = as_role("supervisor")
    app.post("/language", {"locale": "en", "csrf_token": csrf_token(app.get("/imports"))})
    return app, programme


@pytest.mark.parametrize("data, english_words, japanese_words", [
    # Shift_JIS with a byte that is no character: line and byte named.
    ("受付番号,状況\r\n00000001,振込済\r\n".encode("cp932") + b"00000002,\x82\xff\r\n",
     "Line 3, byte 10 (0x82) cannot be read as", "として読めません"),
    (file_of([["00000001", "振込済", "振込済"]], ["受付番号", "状況", "前回の処理状況"], "cp932"),
     "Column “前回の処理状況” looks like “状況”", "のように見えます"),
    (b"a" * (2 * 1024 * 1024), "is too long", "長すぎます"),
])
def test_import_refusals_are_english_in_the_english_ui(english, data, english_words,
                                                       japanese_words):
    app, programme = english
    response = upload(app, programme, data, status=400)
    text = visible_text(response.text)
    assert english_words in text
    assert japanese_words not in text
