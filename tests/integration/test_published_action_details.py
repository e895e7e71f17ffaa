"""The publication workflow end to end with action details: what staff set is what the
signed snapshot answers — kinds, 返送先, dates — and no 不備内容 text is in it."""

from datetime import date

import pytest
import transaction
from sqlalchemy import update

from intranet.applications.models import Application
from intranet.db import get_tm_session
from intranet.programmes.models import Programme
from intranet.publications.job import publish
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import approved_request, plan, verified
from tests.privacy import found_in
from transfer.answer import answer_entry
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.lookup import lookup_key
from transfer.transports import OutboxDestination


@pytest.fixture
def keys(tmp_path):
    return (generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub"),
            generate_lookup_key(tmp_path / "lookup.key"))


NOTES = ["免許証の写しが裏面のみ。ご本人に6月3日電話済み", "通帳の写しが不鮮明、再送依頼（家族より連絡）"]


def test_a_published_deficiency_answers_with_codes_and_days_only(session_factory, accounts, keys,
                                                                 tmp_path):
    programme = make_programme(session_factory, kinds=True,
                               return_to="〒252-5277 中央区中央2-11-15", return_to_en="2-11-15 Chuo",
                               return_to_easy="{中央区|ちゅうおうく}", enclose="返信用封筒",
                               enclose_en="Return envelope", enclose_easy="{封筒|ふうとう}")
    ids = make_applications(session_factory, programme, 2, status="deficient", start=1000)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        for n, application_id in enumerate(ids):
            dbsession.execute(update(Application).where(Application.id == application_id).values(
                deficiency_reason=NOTES[n], deficiency_kinds=(0b101, 0b10)[n],
                documents_sent_on=date(2026, 5, 20), return_by=date(2026, 6, 10)))
    approved_request(session_factory)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    _ids, deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
    assert [d.delivered for d in deliveries] == [True]
    [file] = list(outbox.iterdir())
    data = file.read_bytes()
    parts = [part for note in NOTES for part in note.replace("、", "。").split("。") if part]
    assert found_in(data, [*NOTES, *parts]) == []
    snapshot = verified(file, keys)
    with session_factory() as dbsession:
        code = dbsession.get(Programme, programme).code
    header_programme = next(p for p in snapshot.header["programmes"] if p["code"] == code)
    entry = snapshot.table.find(lookup_key(keys[1], code, "00001000"))
    action = answer_entry(snapshot.header, header_programme, entry).action
    assert action.missing_in("ja") == [
        "本人確認書類の写し（運転免許証、マイナンバーカードの表面など）",
        "申請書への署名（ご本人が自筆でお書きください）"]
    assert action.return_to_in("en") == "2-11-15 Chuo" and action.enclose_in("ja") == "返信用封筒"
    assert (action.documents_sent_on, action.return_by) == (date(2026, 5, 20), date(2026, 6, 10))
