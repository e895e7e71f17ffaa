"""A failed delivery on the staff screens: what happened, what residents see meanwhile and
what to do, in Japanese (English in the English UI); the transport's own reason only under
技術的な詳細. Deliveries fail for real: the publish job writing to an outbox directory that
has gone, and pushing over SFTP to a port where nothing listens."""

import shutil
import socket

import pytest
from sqlalchemy import text

from intranet.publications.job import publish
from tests.conftest import csrf_token, login
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import approved_request, keys, plan  # noqa: F401
from tests.visible_text import visible_text
from transfer.sftp import SftpDestination
from transfer.transports import OutboxDestination

EXCEPTION_NAMES = ["FileNotFoundError", "NoValidConnectionsError", "Errno", "Traceback",
                   "Unable to connect"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def failed(session_factory, accounts, keys, tmp_path):  # noqa: F811
    """One delivery that worked, then the same outbox gone and an SFTP host not answering."""
    make_applications(session_factory, make_programme(session_factory), 3)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    approved_request(session_factory)
    publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
    shutil.rmtree(outbox)
    (tmp_path / "known_hosts").write_text("")
    sftp = SftpDestination("127.0.0.1", _closed_port(), "upload", tmp_path / "none.key",
                           tmp_path / "known_hosts", timeout=2, retries=0)
    approved_request(session_factory, note="2回目")
    _ids, deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox), sftp]))
    assert [d.delivered for d in deliveries] == [False, False]
    return deliveries


@pytest.mark.parametrize("path, role", [("/transfers", "security_officer"),
                                        ("/publications", "supervisor")])
def test_a_failed_delivery_says_what_happened_and_what_to_do(testapp, failed, path, role):
    login(testapp, role)
    page = testapp.get(path)
    text = visible_text(page.text, skip_classes={"technical"})
    assert "転送できませんでした。" in text
    assert "書き込み先のフォルダーが見つかりませんでした。" in text
    assert "公開サーバーに接続できませんでした" in text
    # What residents see: the outbox's previous delivery, with its time and its expiry ...
    assert "住民向けページには、前回届いた内容（" in text and "時点）が表示されたままです" in text
    assert "ごろに有効期限が切れ" in text
    # ... and for the host that never received anything, that residents cannot look up there.
    assert "この公開先にはまだ一度も届いていない" in text
    assert "情報システム担当に確認してもらってください" in text
    # The next run sends the same publication again by itself: no new request is needed.
    assert "原因が解消すれば、次の転送の実行（定時実行、または次の承認の後）で、同じ内容を自動で" \
           "送り直します。もう一度依頼する必要はありません。" in text
    for name in EXCEPTION_NAMES:
        assert name not in text, name
    assert "スナップショット" not in text
    # The transport's reason is kept, under 技術的な詳細, for whoever fixes it.
    technical = visible_text(page.text)
    assert "技術的な詳細" in technical and "FileNotFoundError" in technical
    assert "NoValidConnectionsError" in technical


def test_a_later_delivery_says_the_failure_needs_nothing_more(testapp, failed, session_factory,
                                                              keys, tmp_path):  # noqa: F811
    (tmp_path / "outbox").mkdir()
    approved_request(session_factory, note="3回目")
    publish(session_factory, plan(keys, [OutboxDestination(tmp_path / "outbox")]))
    login(testapp, "security_officer")
    text = visible_text(testapp.get("/transfers").text, skip_classes={"technical"})
    assert "同じ公開先へ転送できています。この失敗への対応は不要です。" in text


def test_a_failed_delivery_in_english(testapp, failed):
    login(testapp, "security_officer")
    page = testapp.get("/transfers")
    testapp.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    text = visible_text(testapp.get("/transfers").text, skip_classes={"technical"})
    assert "Not delivered." in text
    assert "The folder the file is written to was not found." in text
    assert "Could not connect to the public server" in text
    assert "Residents' page still shows the previous delivery (as of" in text
    assert "Once the cause is fixed, the next run of the transfer" in text
    assert "sends the same content again by itself" in text
    for name in EXCEPTION_NAMES:
        assert name not in text, name
    for japanese in ["転送できませんでした", "住民向けページ", "情報システム担当"]:
        assert japanese not in text, japanese


def test_the_audit_log_explains_a_failed_transfer(testapp, failed):
    login(testapp, "security_officer")
    text = visible_text(testapp.get("/audit", {"action": "transfer"}).text)
    assert "公開用ファイルの転送" in text and "書き込み先のフォルダーが見つかりませんでした。" in text
    assert "結果 失敗" in text and "FileNotFoundError" not in text


def test_a_publication_the_job_refused_says_why(testapp, session_factory, accounts, keys,  # noqa: F811
                                                engine, tmp_path):
    make_applications(session_factory, make_programme(session_factory), 3)
    approved_request(session_factory)
    with engine.begin() as conn:           # someone with the database edits the frozen rows
        conn.execute(text("UPDATE publication_rows SET status_code = 'paid'"))
    publish(session_factory, plan(keys, [OutboxDestination(tmp_path)]))
    login(testapp, "supervisor")
    shown = visible_text(testapp.get("/publications").text)
    assert "転送ジョブが公開を中止しました。" in shown
    assert "承認された内容と、公開しようとした内容が一致しなかったため、公開しませんでした。" in shown
    assert "digest" not in shown
