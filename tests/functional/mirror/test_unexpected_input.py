"""Every unexpected input is a 400 (or 404) with the residents' usual page and headers, never a 500."""

import pytest

from public_mirror.web import SECURITY_HEADERS


def assert_usual_page(response, status):
    assert response.status_int == status
    for name in SECURITY_HEADERS:
        assert name in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert response.text.startswith("<!doctype html>")
    assert "入力画面に戻る" in response.text or 'role="alert"' in response.text


@pytest.mark.parametrize("form", [
    {"birth_year": "2147483648", "birth_month": "1", "birth_day": "1"},
    {"birth_year": "1980", "birth_month": "99999999999999999999", "birth_day": "1"},
    {"birth_year": "١٩٨٠", "birth_month": "4", "birth_day": "1"},
    {"birth_year": "1980\n", "birth_month": "4", "birth_day": "1\x00"},
    {"birth_date": "2147483648-01-01"},
    {"birth_date": "+1980-04-01"},
])
def test_odd_birth_dates_are_a_400_naming_the_field(mirror, form):
    page = mirror.post("/lookup", {"programme": "p2024", "receipt_number": "00000001", **form},
                       status=400)
    assert_usual_page(page, 400)
    assert 'id="birth-error"' in page.text and 'href="#birth_era"' in page.text


@pytest.mark.parametrize("body", [
    b"programme=p2020&receipt_number=%FF%FE",                 # not UTF-8
    b"&".join(b"f%d=1" % n for n in range(100)),              # too many fields
    b"receipt_number=" + b"1" * 5000,                         # longer than any form
])
def test_unreadable_forms_are_a_400(mirror, body):
    page = mirror.post("/lookup", body, content_type="application/x-www-form-urlencoded",
                       status=400)
    assert_usual_page(page, 400)


def test_a_file_upload_instead_of_a_number_is_a_400(mirror):
    page = mirror.post("/lookup", {"programme": "p2020"},
                       upload_files=[("receipt_number", "n.txt", b"00000002")], status=400)
    assert_usual_page(page, 400)
    assert "受付番号を入力してください" in page.text


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,                               # nesting (and too long)
    b'{"a":' * 1500 + b"1" + b"}" * 1500,                          # nesting within the cap
    b'{"programme": "p2020", "receipt_number": 12345678}',         # not a string
    b'{"programme": "p2020", "receipt_number": ["00000002"]}',
    b"\xff\xfe{}",
    b"null",
])
def test_odd_json_is_a_400(mirror, body):
    response = mirror.post("/api/v1/lookup", body, content_type="application/json", status=400)
    assert response.json["result"] == "invalid"
    for name in SECURITY_HEADERS:
        assert name in response.headers


def test_birth_year_past_any_integer_through_the_api(mirror):
    response = mirror.post_json("/api/v1/lookup", {"programme": "p2024", "receipt_number": "1",
                                                   "birth_date": "9999999999-01-01"}, status=400)
    assert response.json["errors"]["birth_date"].startswith("生年月日が正しくありません")


def test_unknown_pages_and_methods_get_the_residents_page(mirror):
    assert_usual_page(mirror.get("/wp-login.php", status=404), 404)
    assert "ページが見つかりません" in mirror.get("/nope", status=404).text
    assert_usual_page(mirror.get("/lookup", status=404), 404)
    assert 'name="receipt_number"' in mirror.get("/?lang=%FF", status=200).text
    english = mirror.get("/nope?lang=en", status=404)
    assert '<html lang="en">' in english.text


def test_busy_page_for_the_proxy_is_japanese_with_a_way_back(mirror):
    page = mirror.get("/busy", status=429)
    assert "しばらくお待ちください" in page.text and 'href="/"' in page.text


def test_an_unexpected_failure_is_the_residents_500_page_and_logs_no_input(mirror, caplog):
    def broken(params, client):
        raise ValueError(f"{params.get('receipt_number')} was typed")

    mirror.app.services.desk.ask = broken
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        page = mirror.post("/lookup", {"programme": "p2020", "receipt_number": "00000002"},
                           content_type=content_type, status=500)
        assert "ただいま表示できません" in page.text
        assert page.headers["Content-Security-Policy"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "ValueError" in logged and "00000002" not in logged


def test_a_flood_posted_as_a_form_is_not_parsed(mirror):
    page = mirror.post("/lookup", {"programme": "p2020", "receipt_number": "0" * 100_000},
                       content_type="multipart/form-data", status=400)
    assert_usual_page(page, 400)


def _question(**extra):
    return {"programme": "p2020", "receipt_number": "00000001", **extra}


@pytest.mark.parametrize("shell", ["form, fast path", "form, page view", "API"])
@pytest.mark.parametrize("too_much", ["body", "fields"])
def test_the_three_shells_share_one_input_cap(mirror, shell, too_much):
    """The page's form (through the fast path, or the Pyramid view behind it) and the API
    take the same largest question (``public_mirror.resident``): one byte or one field
    past it is refused alike, and a question at the cap is still read."""
    from public_mirror.resident import MAX_BODY, MAX_FIELDS

    def ask(fields, status):
        if shell == "API":
            return mirror.post_json("/api/v1/lookup", fields, status=status)
        kind = "multipart/form-data" if shell == "form, page view" else None
        return mirror.post("/lookup", fields, content_type=kind, status=status)

    if too_much == "fields":
        at_cap = _question(**{f"x{n}": "1" for n in range(MAX_FIELDS - 2)})
        over = _question(**{f"x{n}": "1" for n in range(MAX_FIELDS - 1)})
    else:
        at_cap, over = _question(), _question(padding="0" * MAX_BODY)
    assert ask(at_cap, "*").status_int == 200
    assert ask(over, 400).status_int == 400
