"""Demo data: two programmes, one account per role, and realistic applications.

Reproducible (seeded PRNG) and fast: applications and their histories go in with bulk
INSERTs, so the benchmark can reuse ``seed_applications`` for a million rows.
"""

import random
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select

from intranet.applications.models import APPLICATIONS, STATUS_CHANGES
from intranet.applications.search_key import search_key
from intranet.audit import writer
from intranet.chunks import chunked
from intranet.deficiencies.catalogue import add_defaults as add_default_kinds
from intranet.deficiencies.defaults import DEFAULT_KINDS
from intranet.programmes.models import Programme
from intranet.users import services as users

SURNAMES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
            ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
            ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
            ("髙橋", "タカハシ"), ("山﨑", "ヤマザキ"), ("齋藤", "サイトウ"), ("渡邊", "ワタナベ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("翔太", "ショウタ"), ("陽菜", "ヒナ"),
         ("健一", "ケンイチ"), ("美咲", "ミサキ"), ("大輔", "ダイスケ"), ("由美", "ユミ"),
         ("蓮", "レン"), ("結衣", "ユイ"), ("誠", "マコト"), ("恵子", "ケイコ")]
DISTRICTS = ["中央", "緑が丘", "相生", "東町", "西橋本", "南台", "北里", "清新"]

# Where residents send papers back, and what they put in: the same office for both.
_RETURN = {"return_to": "〒252-5277 中央区中央2丁目11番15号 市役所 給付金担当",
           "return_to_en": "Benefit Office, City Hall, 2-11-15 Chuo, Chuo-ku 252-5277",
           "return_to_easy": "〒252-5277 {中央区|ちゅうおうく} {中央|ちゅうおう}2-11-15 "
                             "{市役所|しやくしょ} {給付金|きゅうふきん}の {係|かかり}",
           "enclose": "お送りした返信用封筒に、足りない書類を入れてください。",
           "enclose_en": "Please put the missing documents in the return envelope we sent.",
           "enclose_easy": "{送|おく}った {封筒|ふうとう}に、たりない {書類|しょるい}を "
                           "いれて ください。"}
DEMO_PROGRAMMES = [
    {"code": "tokubetsu-2020", "name": "特別定額給付金（令和2年度）",
     "name_en": "Special Cash Payment 2020", "needs_birth_date": False,
     "name_easy": "{特別定額給付金|とくべつていがくきゅうふきん}（{令和|れいわ}2{年度|ねんど}）",
     "lookup_opens_on": date(2020, 5, 18), "lookup_closes_on": None, **_RETURN},
    {"code": "bukka-2024", "name": "物価高騰対策給付金（令和6年度）",
     "name_en": "Price Surge Relief Payment 2024", "needs_birth_date": True,
     "name_easy": "{物価高騰対策給付金|ぶっかこうとうたいさくきゅうふきん}（{令和|れいわ}6{年度|ねんど}）",
     "lookup_opens_on": date(2024, 7, 1), "lookup_closes_on": None, **_RETURN},
]

DEMO_USERS = [("staff", "職員 一郎", "staff"), ("supervisor", "監督 花子", "supervisor"),
              ("security", "監査 次郎", "security_officer"), ("admin", "管理 三郎", "admin")]

# Where applications stop, and the path they take to get there.
PATHS = [
    (30, ["received", "reviewing", "approved", "payment_scheduled", "paid"]),
    (12, ["received", "reviewing", "approved", "payment_scheduled"]),
    (8, ["received", "reviewing", "approved"]),
    (14, ["received", "reviewing"]),
    (12, ["received"]),
    (5, ["received", "reviewing", "inquiring"]),
    (6, ["received", "deficient"]),
    (4, ["received", "deficient", "awaiting_resubmission"]),
    (4, ["received", "deficient", "awaiting_resubmission", "reviewing", "approved",
         "payment_scheduled", "paid"]),
    (2, ["received", "reviewing", "approved", "payment_scheduled", "payment_failed"]),
    (1, ["received", "withdrawn"]),
    (1, ["received", "duplicate"]),
    (1, ["received", "reviewing", "rejected"]),
]
_CHUNK = 2000


def seed(dbsession, actor, applications: int, seed_value: int = 2020):
    rng = random.Random(seed_value)
    credentials = []
    for username, display_name, role in DEMO_USERS:
        if users.find_user(dbsession, username) is None:
            password = secrets.token_urlsafe(12)
            users.add_user(dbsession, actor, username, display_name, role, password)
            credentials.append((username, password, role))
    programmes = []
    for values in DEMO_PROGRAMMES:
        programme = dbsession.execute(
            select(Programme).where(Programme.code == values["code"])).scalar_one_or_none()
        if programme is None:
            programme = Programme(**values)
            dbsession.add(programme)
            dbsession.flush()
            add_default_kinds(dbsession, programme.id)
        programmes.append(programme)
    dbsession.flush()
    first = applications * 3 // 4
    seed_applications(dbsession, programmes[0], first, rng, date(2020, 5, 11))
    seed_applications(dbsession, programmes[1], applications - first, rng, date(2024, 7, 1))
    writer.append(dbsession, actor, "demo.seed", "applications", count=applications)
    _approved_publication(dbsession, actor)
    return credentials


def _approved_publication(dbsession, actor):
    """A publication requested by staff and approved by a supervisor, for the first transfer."""
    from intranet.publications import services as publications

    staff, supervisor = users.find_user(dbsession, "staff"), users.find_user(dbsession, "supervisor")
    if staff is None or supervisor is None:
        return
    request = publications.request_publication(dbsession, actor, staff, "デモの初回公開", True)
    publications.decide(dbsession, actor, supervisor, request, True, True,
                        digest=request.content_digest)


def seed_applications(dbsession, programme, count, rng, opening: date, start_number=1):
    """Insert ``count`` applications with their histories, in bulk."""
    table = APPLICATIONS
    for chunk in chunked(generate_applications(programme, count, rng, opening, start_number),
                         _CHUNK):
        # Core executemany (the ORM's bulk path emitted a statement per row here); the new
        # ids come back in batches, matched by receipt number since order is not promised.
        ids = dict(dbsession.execute(
            insert(table).returning(table.c.receipt_number_normalised, table.c.id),
            [row for row, _history in chunk]).all())
        dbsession.execute(insert(STATUS_CHANGES), [
            {**change, "application_id": ids[row["receipt_number_normalised"]]}
            for row, history in chunk for change in history])


def generate_applications(programme, count, rng, opening: date, start_number=1):
    """Yield (application row, its history rows without application_id), reproducibly."""
    weights = [w for w, _ in PATHS]
    for n in range(start_number, start_number + count):
        row, path, moments = _application(programme, n, rng, opening, weights)
        yield row, _history(row, path, moments)


def _application(programme, n, rng, opening, weights):
    surname, surname_kana = rng.choice(SURNAMES)
    given, given_kana = rng.choice(GIVEN)
    online = rng.random() < 0.45
    if online:
        number = f"{programme.id}{n:014d}"
        printed = number
    else:
        number = f"{(programme.id * 10_000_000 + n) % 100_000_000:08d}"
        printed = f"{number[:4]}-{number[4:]}" if rng.random() < 0.5 else number
    received = opening + timedelta(days=int(rng.triangular(0, 90, 5)))
    path = rng.choices(PATHS, weights)[0][1]
    birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 33_000))
    row = {
        "programme_id": programme.id, "receipt_number": printed,
        "receipt_number_normalised": number,
        "name": f"{surname}　{given}", "kana": f"{surname_kana}　{given_kana}",
        "birth_date": birth,
        "address": (f"{rng.choice(DISTRICTS)}{rng.randint(1, 5)}丁目"
                    f"{rng.randint(1, 30)}番{rng.randint(1, 20)}号"),
        "phone": f"042-{rng.randint(700, 799)}-{rng.randint(0, 9999):04d}",
        "route": "online" if online else rng.choice(["postal", "postal", "push"]),
        "received_on": received, "status_code": path[-1], "version": len(path),
        "deficiency_reason": "本人確認書類の写しが添付されていません" if "deficient" in path else "",
        "notes": "",
    }
    row["search_key"] = search_key(row["name"], row["kana"], row["phone"])
    moments = [datetime.combine(received, datetime.min.time()) + timedelta(hours=9)]
    for _ in path[1:]:
        moments.append(moments[-1] + timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 7)))
    if path[-1] in ("payment_scheduled", "paid", "payment_failed"):
        row["scheduled_payment_on"] = (moments[path.index("payment_scheduled")] + timedelta(days=7)).date()
    if path[-1] == "paid":
        row["paid_on"] = row["scheduled_payment_on"]
    row.update(_action_details(n, path, moments))
    row.setdefault("scheduled_payment_on", None)
    row.setdefault("paid_on", None)
    row["updated_at"] = moments[-1]
    return row, path, moments


def _action_details(n, path, moments):
    """One or two of the shipped kinds, the letter the day after 不備あり, three weeks to
    answer — chosen from the number, not the generator, so the rest of the data is as before."""
    if path[-1] not in ("deficient", "awaiting_resubmission"):
        return {"deficiency_kinds": 0, "documents_sent_on": None, "return_by": None}
    sent = (moments[path.index("deficient")] + timedelta(days=1)).date()
    kinds = 1 << n % len(DEFAULT_KINDS) | (1 << (n // 7) % len(DEFAULT_KINDS) if n % 3 == 0 else 0)
    return {"deficiency_kinds": kinds, "documents_sent_on": sent,
            "return_by": sent + timedelta(days=21)}


def _history(row, path, moments):
    changes = []
    for i, code in enumerate(path):
        changes.append({
            "from_code": path[i - 1] if i else None, "to_code": code,
            "changed_at": moments[i], "user_id": None, "source": "create" if i == 0 else "manual",
            "reason": "",
            "scheduled_payment_on": (row["scheduled_payment_on"]
                                     if code == "payment_scheduled" else None),
            "paid_on": row["paid_on"] if code == "paid" else None,
        })
    return changes
