"""The security officer's audit screen: the chain's state, filters, CSV."""

import transaction
from sqlalchemy import text

from intranet.audit import writer
from intranet.db import get_tm_session
from tests.conftest import login
from tests.tampering import insider


def test_audit_page_shows_an_intact_chain(as_role):
    page = as_role("security_officer").get("/audit")
    assert "改ざん検査: 正常" in page.text
    assert "<td>ログイン</td>" in page.text


def test_an_edited_record_shows_as_broken(as_role, engine):
    app = as_role("security_officer")
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2"))
    page = app.get("/audit")
    assert "改ざん検査: 異常" in page.text and "記録 2 番" in page.text


def test_filter_by_user_and_action(as_role, testapp):
    app = as_role("security_officer")
    login(testapp, "staff", "wrong", status=401)
    login(testapp, "security_officer")
    page = app.get("/audit", {"action": "login.failure"})
    assert "<td>ログインの失敗</td>" in page.text and "<td>ログイン</td>" not in page.text
    page = app.get("/audit", {"actor": "nobody"})
    assert "該当する記録はありません" in page.text


def test_csv_export_is_excel_ready_and_formula_safe(as_role, testapp, session_factory):
    # A name typed at the login page is not kept unless it is an account's ...
    login(testapp, "=HYPERLINK(\"http://evil\")", "x", status=401)
    # ... but whatever reaches the audit (here a system actor's name) is exported safely.
    with transaction.manager:
        writer.append(get_tm_session(session_factory, transaction.manager),
                      writer.Actor(name="＝HYPERLINK(\"http://evil\")", host="h", os_user="u"),
                      "test.action")
    app = as_role("security_officer")
    response = app.get("/audit.csv")
    assert response.content_type == "text/csv"
    assert response.body.startswith(b"\xef\xbb\xbf")
    body = response.body.decode("utf-8-sig")
    assert body.count("HYPERLINK") == 1 and "'＝HYPERLINK" in body


def test_the_officer_sees_the_last_checkpoint_and_the_chain_held_against_it(
        app_with, accounts, session_factory, tmp_path):
    from intranet.audit import services
    from transfer.keys import generate_signing_key

    key = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.pub")
    path = tmp_path / "checkpoints.jsonl"
    with transaction.manager:
        checkpoint = services.take_checkpoint(get_tm_session(session_factory, transaction.manager),
                                              writer.Actor(name="transfer"), key, path)
    app = app_with(**{"audit.checkpoint_file": str(path),
                      "audit.checkpoint_keys": str(tmp_path / "sign.pub")})
    login(app, "security_officer")
    page = app.get("/audit")
    assert checkpoint.head_hash in page.text and key.key_id in page.text
    assert "チェックポイント 1 件と照合済み" in page.text and str(path) in page.text
    # A checkpoint file someone edited is reported, not trusted.
    path.write_text(path.read_text().replace('"count": ', '"count": 9', 1))
    assert "チェックポイントを確認できません" in app.get("/audit").text
