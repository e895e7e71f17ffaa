"""The security officer's audit screen: the chain's state, filters, CSV."""

from sqlalchemy import text

from tests.conftest import login


def test_audit_page_shows_an_intact_chain(as_role):
    page = as_role("security_officer").get("/audit")
    assert "改ざん検査: 正常" in page.text
    assert "login.success" in page.text


def test_an_edited_record_shows_as_broken(as_role, engine):
    app = as_role("security_officer")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2"))
    page = app.get("/audit")
    assert "改ざん検査: 異常" in page.text and "記録 2 番" in page.text


def test_filter_by_user_and_action(as_role, testapp):
    app = as_role("security_officer")
    login(testapp, "staff", "wrong", status=401)
    login(testapp, "security_officer")
    page = app.get("/audit", {"action": "login.failure"})
    assert "login.failure" in page.text and "login.success" not in page.text
    page = app.get("/audit", {"actor": "nobody"})
    assert "該当する記録はありません" in page.text


def test_csv_export_is_excel_ready_and_formula_safe(as_role, testapp):
    login(testapp, "=HYPERLINK(\"http://evil\")", "x", status=401)
    app = as_role("security_officer")
    response = app.get("/audit.csv")
    assert response.content_type == "text/csv"
    assert response.body.startswith(b"\xef\xbb\xbf")
    body = response.body.decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
