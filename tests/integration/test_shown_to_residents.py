"""Staff see what the resident sees: 「公開中の表示」 on the application page is the answer the
residents' page gives for that application — checked against a real public host that
received the same publication — and 「次回の公開で反映されます」 says when the newest change
is not published yet. On SQLite and PostgreSQL."""

import re
import shutil
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import delete, select, update

from intranet.applications.models import Application
from intranet.disposal.models import Disposal
from intranet.programmes.models import Programme
from intranet.publications.job import publish
from intranet.publications.models import Publication, PublicationRow
from intranet.statuses.models import StatusWording
from tests.factories import make_applications, make_programme
from tests.functional.test_disposal import (
    OVERRIDE,
    as_user,
    request_disposal,
    second_supervisor,  # noqa: F401  (the fixture)
    spool,  # noqa: F401  (the fixture)
    step,
)
from tests.functional.test_disposal import decide as decide_disposal
from tests.integration.test_publish import approved_request, plan
from tests.mirror_fixtures import PublicHost
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination


class City:
    """The intranet's publication job and one public host fed by its outbox."""

    def __init__(self, root, session_factory):
        self.session_factory, self.outbox = session_factory, root / "outbox"
        self.outbox.mkdir()
        self.keys = (generate_signing_key(root / "sign.key", root / "sign.key.pub"),
                     generate_lookup_key(root / "lookup.key"))
        (root / "host").mkdir()
        self.host = PublicHost(root / "host")
        self.host.settings.update({"mirror.trusted_keys": str(root / "sign.key.pub"),
                                   "mirror.lookup_key": str(root / "lookup.key")})

    def publish(self, *more_destinations):
        approved_request(self.session_factory)
        _ids, deliveries = publish(self.session_factory, plan(
            self.keys, [OutboxDestination(self.outbox), *more_destinations]))
        assert deliveries[0].delivered
        for file in self.outbox.iterdir():   # the diode carries it to the public host
            shutil.move(file, self.host.root / "inbox" / file.name)
        assert self.host.receive()
        return deliveries

    def residents_page(self, number, lang="ja"):
        return self.host.app().post("/lookup", {"programme": "tokubetsu-2020",
                                                "receipt_number": number, "lang": lang}).text


@pytest.fixture
def city(tmp_path, session_factory, accounts):
    return City(tmp_path, session_factory)


def shown(testapp, application_id) -> str:
    page = testapp.get(f"/applications/{application_id}").text
    return page.split('<section class="card residents"')[1].split("</section>")[0]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def answer_box(html: str) -> str:
    """The residents' page's answer: its status section."""
    return html.split('<section class="answer')[1].split("</section>")[0]


def test_the_page_shows_the_answer_residents_get_and_when_a_change_is_not_yet_there(
        city, as_role, session_factory, engine):
    first, second = make_applications(session_factory, make_programme(session_factory), 2)
    app = as_role("inquiry")
    before = shown(app, first)
    assert "まだ一度も公開されていないため" in before and "次回の公開で反映されます" in before
    assert "「受け付けました」" in text_of(before)

    city.publish()
    residents = answer_box(city.residents_page("00000001"))
    staff = shown(app, first)
    assert "次回の公開で反映されます" not in staff
    for part in ("受け付けました", "申請書を受け付けました。これから内容を確認します。",
                 "手続きは必要ありません。審査が終わるまでお待ちください。"):
        assert part in text_of(residents) and part in text_of(staff)
    # In the other languages, word for word (furigana included) as the residents' page has it.
    for lang in ("en", "ja-easy"):
        page = answer_box(city.residents_page("00000001", lang))
        label = re.search(r'<h2 id="status-label" class="status">(.*?)</h2>', page).group(1)
        assert f'<p class="resident-label">{label}</p>' in staff
    # The "as of" of both is the snapshot's creation, to the minute.
    when = re.search(r"(\d+)年(\d+)月(\d+)日 (\d+)時(\d+)分 時点",
                     city.residents_page("00000001")).groups()
    built = re.search(r"公開日時</dt><dd>(\d+)年(\d+)月(\d+)日 (\d+):(\d+)", staff).groups()
    assert tuple(map(int, when)) == tuple(map(int, built))

    with session_factory() as s, s.begin():   # the payment is scheduled after publication
        s.execute(update(Application).where(Application.id == first).values(
            status_code="payment_scheduled", scheduled_payment_on=date(2026, 7, 10)))
    staff = shown(app, first)
    assert "受け付けました" in answer_box(city.residents_page("00000001"))
    assert "次回の公開で反映されます" in staff and "「振込予定です」（振込予定日 2026年7月10日）" in staff
    assert "受け付けました" in staff.split('<div class="resident-answer')[1]   # still shown
    assert "次回の公開で反映されます" not in shown(app, second)

    city.publish()
    residents, staff = answer_box(city.residents_page("00000001")), shown(app, first)
    assert "振込予定です" in residents and "2026年7月10日" in residents
    assert "振込予定です" in staff and "2026年7月10日" in staff
    assert "次回の公開で反映されます" not in staff


def test_a_changed_wording_is_a_change_residents_will_see(city, as_role, session_factory):
    [one] = make_applications(session_factory, make_programme(session_factory), 1)
    city.publish()
    with session_factory() as s, s.begin():
        s.execute(update(StatusWording).where(StatusWording.status_code == "received",
                                              StatusWording.lang == "ja")
                  .values(explanation="申請書を受け取りました。"))
    staff = shown(as_role("staff"), one)
    assert "次回の公開で反映されます" in staff
    assert "申請書を受け付けました。これから内容を確認します。" in staff   # still the published one


def test_without_a_birth_date_residents_cannot_find_it_and_the_page_says_why(
        city, as_role, session_factory):
    programme = make_programme(session_factory, "bukka-2024", needs_birth_date=True)
    known, unknown = make_applications(session_factory, programme, 2)
    with session_factory() as s, s.begin():
        s.get(Application, unknown).birth_date = None
    city.publish()
    app = as_role("staff")
    assert "受け付けました" in shown(app, known)
    staff = shown(app, unknown)
    assert "申請が見つかりませんでした" in staff and "生年月日が登録されていません" in staff
    assert "次回の公開で反映されます" not in staff   # the next publication cannot help either
    with session_factory() as s, s.begin():
        s.get(Application, unknown).birth_date = date(1980, 1, 1)
    assert "次回の公開で反映されます" in shown(app, unknown)


def test_a_new_application_an_expired_snapshot_and_a_closed_programme(city, as_role,
                                                                     session_factory):
    programme = make_programme(session_factory)
    [old] = make_applications(session_factory, programme, 1)
    city.publish()
    [new] = make_applications(session_factory, programme, 1, start=50)
    app = as_role("staff")
    staff = shown(app, new)
    assert "申請が見つかりませんでした" in staff and "最後に公開した後に登録された" in staff
    assert "次回の公開で反映されます" in staff

    with session_factory() as s, s.begin():
        s.get(Programme, programme).lookup_closes_on = date.today() - timedelta(days=2)
    assert "照会できない" in shown(app, old)

    with session_factory() as s, s.begin():
        s.get(Programme, programme).lookup_closes_on = None
        s.execute(update(Publication).values(expires_at=Publication.built_at))
    staff = shown(app, old)
    assert "「情報を更新しています」" in staff and "次回の公開で反映されます" in staff


def test_a_public_host_the_publication_did_not_reach_is_named(city, as_role, session_factory,
                                                             tmp_path):
    [one] = make_applications(session_factory, make_programme(session_factory), 1)
    city.publish(OutboxDestination(tmp_path / "no-such-gateway"))
    staff = shown(as_role("staff"), one)
    assert "届いていない公開先" in staff and "no-such-gateway" in staff


def test_a_publication_made_before_content_was_kept_is_said_so(as_role, session_factory,
                                                              accounts):
    [one] = make_applications(session_factory, make_programme(session_factory), 1)
    with session_factory() as s, s.begin():
        s.add(Publication(state="published", requested_at=date(2026, 1, 1), sequence=7,
                          sha256="ab" * 32))
    staff = shown(as_role("staff"), one)
    assert "内容を記録する前の版" in staff and "次回の公開で反映されます" not in staff



def test_a_publication_delivered_before_its_rows_were_kept_is_said_so(city, as_role,
                                                                     session_factory):
    """A site upgraded past revision 0021 with a publication already delivered: its frozen
    rows were dropped after delivery, so nothing exact is known until the next one."""
    [one] = make_applications(session_factory, make_programme(session_factory), 1)
    city.publish()
    with session_factory() as s, s.begin():
        s.execute(delete(PublicationRow))
    staff = shown(as_role("staff"), one)
    assert "内容を記録する前の版" in staff and "次回の公開で反映されます" not in staff
    city.publish()
    assert "受け付けました" in text_of(shown(as_role("staff"), one))

RETURN = {"return_to": "〒252-5277 中央区中央2-11-15 給付金担当", "return_to_en": "2-11-15 Chuo",
          "return_to_easy": "{中央区|ちゅうおうく}の {給付金|きゅうふきん}の {係|かかり}",
          "enclose": "返信用封筒に入れてください。", "enclose_en": "Use the return envelope.",
          "enclose_easy": "{封筒|ふうとう}に いれて ください。"}


def test_the_action_details_shown_are_the_residents_and_a_changed_deadline_is_pending(
        city, as_role, session_factory):
    """A 不備あり application: the kinds, 返送先, 同封するもの and both dates residents read are
    on the staff page, in the three languages; the internal 不備内容 is not in that part; a
    deadline moved after publication is 「次回の公開で反映されます」, and a passed one is said."""
    programme = make_programme(session_factory, kinds=True, **RETURN)
    [one] = make_applications(session_factory, programme, 1, status="deficient")
    sent, due = date.today() - timedelta(days=5), date.today() + timedelta(days=14)
    with session_factory() as s, s.begin():
        s.execute(update(Application).where(Application.id == one).values(
            deficiency_kinds=0b101, documents_sent_on=sent, return_by=due,
            deficiency_reason="免許証の写しが裏面のみ（職員メモ）"))
    city.publish()
    app = as_role("inquiry")
    staff, residents = shown(app, one), answer_box(city.residents_page("00000001"))
    assert "次回の公開で反映されます" not in staff
    for part in ("本人確認書類の写し（運転免許証、マイナンバーカードの表面など）",
                 "申請書への署名（ご本人が自筆でお書きください）",
                 "〒252-5277 中央区中央2-11-15 給付金担当", "返信用封筒に入れてください。"):
        assert part in text_of(residents) and part in text_of(staff)
    assert "記入漏れ" not in text_of(staff) and "職員メモ" not in staff
    for day in (sent, due):
        assert f"{day.year}年{day.month}月{day.day}日" in text_of(staff)
    assert "期限を過ぎています" not in staff
    # In the other languages, each kind as the residents' page writes it (furigana included).
    for lang in ("en", "ja-easy"):
        page = city.residents_page("00000001", lang)
        items = re.findall(r"<li>(.*?)</li>", page.split('class="missing"')[1].split("</ul>")[0])
        assert len(items) == 2 and all(f"<li>{item}</li>" in staff for item in items)
    assert "<ruby>中央区<rp>" in staff and "2-11-15 Chuo" in staff

    with session_factory() as s, s.begin():   # the deadline is extended after publication
        s.get(Application, one).return_by = due + timedelta(days=7)
    staff = shown(app, one)
    assert "次回の公開で反映されます" in staff
    later = due + timedelta(days=7)
    assert f"返送期限 {later.year}年{later.month}月{later.day}日" in text_of(staff)
    assert f"{due.year}年{due.month}月{due.day}日" in text_of(
        staff.split('<div class="resident-answer')[1])   # still the published one

    with session_factory() as s, s.begin():   # once the published deadline has passed
        s.get(Application, one).return_by = date.today() - timedelta(days=1)
    city.publish()
    staff = shown(app, one)
    assert "期限を過ぎています" in staff and "次回の公開で反映されます" not in staff
    assert "返送期限を過ぎています" in city.residents_page("00000001")


def test_after_disposal_the_panel_still_says_what_residents_are_answered_and_nothing_personal(
        spool, city, testapp, session_factory, second_supervisor):  # noqa: F811
    """Disposal gives the last delivered publication's kept row the erased key (-<id>, no
    birth date). Until the next publication the public host still answers the resident
    from its snapshot, and the panel says so: the status, not "not found" nor "no birth
    date"; and nothing of the person (the number, the erased key, the birth date)."""
    programme = make_programme(session_factory, "tokubetsu-2020", needs_birth_date=True)
    [one] = make_applications(session_factory, programme, 1)
    city.publish()
    app = as_user(testapp, "supervisor")
    assert step(app, programme, "close_lookup").status_int == 303
    assert step(app, programme, "archive").status_int == 303
    assert request_disposal(app, programme, override=True, reason=OVERRIDE).status_int == 303
    with session_factory() as s:
        disposal = s.execute(select(Disposal.id)).scalar_one()
    assert decide_disposal(as_user(testapp, second_supervisor), disposal).status_int == 303
    with session_factory() as s:
        assert s.get(Application, one).receipt_number_normalised == f"-{one}"

    staff = shown(as_user(testapp, "staff"), one)
    assert "見つかりませんでした" not in staff and "生年月日が登録されていません" not in staff
    assert "受け付けました" in text_of(staff.split('<div class="resident-answer')[1])
    assert "次回の公開で反映されます" in staff and "照会できない" in staff   # the next one
    for personal in ("00000001", "0000-0001", f"-{one}", "1980", "昭和55"):
        assert personal not in staff
    # What the panel says is what the public host still answers from its snapshot.
    residents = city.host.app().post("/lookup", {
        "programme": "tokubetsu-2020", "receipt_number": "00000001", "birth_era": "showa",
        "birth_year": "55", "birth_month": "1", "birth_day": "1", "lang": "ja"}).text
    assert "受け付けました" in answer_box(residents)
