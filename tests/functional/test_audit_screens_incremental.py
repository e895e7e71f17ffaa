"""The audit and transfer screens check the chain from the last signed checkpoint; a
record tampered with after it still shows as broken on both."""

import transaction
from sqlalchemy import text

from intranet.audit import services, writer
from intranet.db import get_tm_session
from tests.conftest import csrf_token, login
from tests.tampering import insider
from transfer.keys import generate_signing_key


def test_a_record_tampered_after_the_checkpoint_shows_on_both_screens(
        app_with, accounts, session_factory, engine, tmp_path):
    key = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.pub")
    path = tmp_path / "checkpoints.jsonl"
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        services.take_checkpoint(dbsession, writer.Actor(name="transfer"), key, path)
        for n in range(3):
            writer.append(dbsession, writer.Actor(name="transfer"), "test.action", f"n:{n}")
    with session_factory() as dbsession:
        after = services.verify_since_checkpoint(
            dbsession, services.checkpoints.from_settings(
                {"audit.checkpoint_file": str(path),
                 "audit.checkpoint_keys": str(tmp_path / "sign.pub")}))
    assert after.ok and after.verified_from is not None
    app = app_with(**{"audit.checkpoint_file": str(path),
                      "audit.checkpoint_keys": str(tmp_path / "sign.pub")})
    login(app, "security_officer")
    # Both screens say where the check began, not that every record was re-read.
    for screen in ("/audit", "/transfers"):
        page = app.get(screen)
        assert (f"署名付きチェックポイントの記録 {after.verified_from} 番から後を照合しました"
                in page.text), screen
        assert "すべて連鎖しています" not in page.text
    page = app.get("/audit")
    app.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    assert (f"Checked from record {after.verified_from}, at a signed checkpoint, onwards"
            in app.get("/transfers").text)
    app.post("/language", {"locale": "ja", "csrf_token": csrf_token(page)})
    tampered = after.verified_from + 2
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET target = 'n:forged' WHERE seq = :seq"),
                     {"seq": tampered})
    for screen in ("/audit", "/transfers"):
        page = app.get(screen)
        assert "改ざん検査: 異常" in page.text and f"記録 {tampered} 番" in page.text
