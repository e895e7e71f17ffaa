"""Finding people as callers give their names: widths, spaces, kana, 異体字, phone."""

import random
import re
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import inspect, select, text

from intranet import migrations
from intranet.applications import search
from intranet.applications.models import Application
from intranet.applications.search_key import fold, phone_digits, query_text, search_key
from tests.conftest import login
from tests.factories import make_applications, make_programme


@pytest.fixture
def people(session_factory):
    programme = make_programme(session_factory)
    return applications_of(session_factory, programme, [
        ("髙橋　大輔", "タカハシ　ダイスケ", "042-111-2222"), ("山﨑　花子", "ヤマザキ　ハナコ", ""),
        ("渡邉　一郎", "ワタナベ　イチロウ", ""), ("齋藤　𠮷男", "サイトウ　ヨシオ", "")])


def applications_of(session_factory, programme, people):
    """One application per (name, kana, phone); returns their ids."""
    ids = make_applications(session_factory, programme, len(people))
    with session_factory() as s, s.begin():
        for application_id, (name, kana, phone) in zip(ids, people, strict=True):
            application = s.get(Application, application_id)
            application.name, application.kana, application.phone = name, kana, phone
    return ids


@pytest.mark.parametrize(("typed", "found"), [
    ("髙橋　大輔", "髙橋　大輔"), ("髙橋大輔", "髙橋　大輔"), ("高橋", "髙橋　大輔"),
    ("たかはし", "髙橋　大輔"), ("ﾀｶﾊｼ ﾀﾞｲｽｹ", "髙橋　大輔"), ("042-111-2222", "髙橋　大輔"),
    ("０４２１１１２２２２", "髙橋　大輔"), ("山崎", "山﨑　花子"), ("渡辺", "渡邉　一郎"),
    ("斉藤　吉男", "齋藤　𠮷男"), ("やまざき　はなこ", "山﨑　花子"),
])
def test_a_name_typed_any_usual_way_finds_the_person(as_role, people, typed, found):
    page = as_role("staff").get("/applications", {"name": typed})
    assert "1 件見つかりました" in page.text and found in page.text
    assert f'value="{typed}"' in page.text            # the box shows what was typed


def test_a_name_that_is_not_there_finds_nobody(as_role, people):
    assert "0 件見つかりました" in as_role("staff").get("/applications",
                                                   {"name": "大輔たかはし"}).text


def test_the_migration_fills_the_key_of_applications_made_before_it(engine, session_factory):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 2)
    with engine.begin() as connection:
        connection.execute(text("UPDATE applications SET search_key = '', name = '髙橋　大輔'"))
    migrations.downgrade(engine, "0005")
    migrations.upgrade(engine)
    with session_factory() as s:
        keys = s.execute(select(Application.search_key, Application.kana,
                                Application.phone)).all()
    assert keys and all(key == search_key("髙橋　大輔", kana, phone) for key, kana, phone in keys)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            assert connection.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_applications_search_key'"
            )).scalar_one().endswith("USING gin (search_key gin_trgm_ops)")


def test_a_search_matching_more_than_the_cap_says_so_and_asks_to_narrow_it(
        as_role, session_factory, monkeypatch):
    # The cap is 1,000 in service; 3 keeps the test from inserting 1,001 rows.
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    make_applications(session_factory, make_programme(session_factory), 5)
    page = as_role("staff").get("/applications", {"name": "山田"})
    assert "3 件以上見つかりました" in page.text
    assert " 件見つかりました" not in page.text                 # no exact figure claimed
    assert 'id="count-capped" role="status">該当が 3 件を超えるため' in page.text


def test_a_search_under_the_cap_shows_the_exact_count(as_role, session_factory, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    make_applications(session_factory, make_programme(session_factory), 3)
    page = as_role("staff").get("/applications", {"name": "山田"})
    assert "3 件見つかりました" in page.text and "件以上" not in page.text
    assert "count-capped" not in page.text


def test_paging_reaches_the_last_match_when_the_count_is_capped(
        app_with, accounts, session_factory, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    make_applications(session_factory, make_programme(session_factory), 7)
    app = app_with(**{"list.page_size": "2"})
    login(app, "staff")
    seen, url = [], "/applications?name=%E5%B1%B1%E7%94%B0&sort=receipt&dir=asc"
    while url:
        page = app.get(url)
        assert "3 件以上見つかりました" in page.text
        seen += re.findall(r">(\d{4}-\d{4})</a>", page.text)
        match = re.search(r'href="http://localhost(/applications\?[^"]+)" rel="next"', page.text)
        url = match and match.group(1).replace("&amp;", "&")
    assert len(seen) == 7 and seen == sorted(set(seen))


def test_the_birth_date_tells_applicants_with_one_name_apart(as_role, session_factory):
    ids = make_applications(session_factory, make_programme(session_factory), 3)
    with session_factory() as s, s.begin():
        s.get(Application, ids[1]).birth_date = date(1975, 3, 9)
    app = as_role("staff")
    page = app.get("/applications", {"name": "山田", "birth": "1975-03-09"})
    assert "1 件見つかりました" in page.text and "0000-0002" in page.text
    assert 'value="1975-03-09"' in page.text
    page = app.get("/applications", {"name": "山田", "birth": "1975-13-09"}, status=400)
    assert "生年月日を読み取れません" in page.text and 'aria-invalid="true"' in page.text


@pytest.mark.parametrize("heard", ["昭和50年3月9日", "S50.3.9", "しょうわ50年3月9日",
                                   "昭和５０年　３月　９日生まれ", "1975/3/9"])
def test_the_birth_date_as_a_caller_says_it_in_wareki(as_role, session_factory, heard):
    ids = make_applications(session_factory, make_programme(session_factory), 3)
    with session_factory() as s, s.begin():
        s.get(Application, ids[1]).birth_date = date(1975, 3, 9)
    page = as_role("inquiry").get("/applications", {"name": "山田", "birth": heard})
    assert "1 件見つかりました" in page.text and "0000-0002" in page.text
    # What was read is said back both ways, so the clerk can repeat it to the caller.
    assert "昭和50年3月9日（1975年3月9日）として検索しました" in page.text
    search = next(form for form in page.forms.values() if "birth" in form.fields)
    assert search["birth"].value == heard


@pytest.mark.parametrize("heard", ["平成31年5月1日", "55年3月9日", "昭和", "ことし"])
def test_a_birth_date_that_cannot_be_meant_is_said_so(as_role, session_factory, heard):
    page = as_role("inquiry").get("/applications", {"birth": heard}, status=400)
    assert "生年月日を読み取れません" in page.text and "として検索しました" not in page.text


# --- Phone fragments, last four digits, 異体字, kana, mixed; never across a boundary -------

CALLERS = [  # name, kana, phone
    ("髙橋　大輔", "タカハシ　ダイスケ", "042-111-2222"),
    ("高橋　花子", "たかはし　はなこ", "03-1234-5678"),
    ("山﨑　一郎2", "ヤマザキ　イチロウ", "090-2042-7777"),
    ("齋藤　𠮷男", "ｻｲﾄｳ ﾖｼｵ", "０４２（３３３）４４４４"),
    ("Ｓｍｉｔｈ　Ｊｏｈｎ", "スミス　ジョン", ""),
]


@pytest.fixture
def callers(session_factory):
    ids = applications_of(session_factory, make_programme(session_factory), CALLERS)
    return dict(zip((c[0] for c in CALLERS), ids, strict=True))


def found(session_factory, typed):
    criteria = search.Criteria(name=typed)
    with session_factory() as s:
        return set(s.execute(search.build_query(criteria).with_only_columns(Application.name))
                   .scalars())


@pytest.mark.parametrize(("typed", "names"), [
    # Phone numbers: whole, with or without dashes or brackets, full width, fragments, the
    # last four digits; the digits may span the dashes as written.
    ("042-111-2222", {"髙橋　大輔"}), ("0421112222", {"髙橋　大輔"}), ("111-2222", {"髙橋　大輔"}),
    ("2222", {"髙橋　大輔"}), ("4444", {"齋藤　𠮷男"}), ("042(333)4444", {"齋藤　𠮷男"}),
    ("０４２－３３３", {"齋藤　𠮷男"}), ("1112", {"髙橋　大輔"}), ("5678", {"高橋　花子"}),
    ("042", {"髙橋　大輔", "齋藤　𠮷男", "山﨑　一郎2"}),       # 090-2042-7777 holds 042 too
    # Names with 異体字, either way round; kana in either script and width.
    ("高橋", {"髙橋　大輔", "高橋　花子"}), ("髙橋", {"髙橋　大輔", "高橋　花子"}),
    ("山崎", {"山﨑　一郎2"}), ("斎藤吉男", {"齋藤　𠮷男"}), ("𠮷", {"齋藤　𠮷男"}),
    ("タカハシ", {"髙橋　大輔", "高橋　花子"}), ("ﾀｶﾊｼ　ﾊﾅｺ", {"高橋　花子"}),
    ("さいとう　よしお", {"齋藤　𠮷男"}), ("ハナコ", {"高橋　花子"}),
    ("smith", {"Ｓｍｉｔｈ　Ｊｏｈｎ"}), ("ＪＯＨＮ", {"Ｓｍｉｔｈ　Ｊｏｈｎ"}),
    # Mixed: a digit in a name is found as written; a name and a digit together.
    ("一郎2", {"山﨑　一郎2"}), ("2", {"髙橋　大輔", "山﨑　一郎2", "高橋　花子", "齋藤　𠮷男"}),
    # Never across two fields: the end of one and the start of the next.
    ("大輔たかはし", set()), ("だいすけ042", set()), ("一郎2やまざき", set()),
    ("20902", set()),              # 一郎「2」 + 「090」2…: only across name and phone
    ("johnすみす", set()), ("輔タ", set()), ("ｼｵ0", set()),
])
def test_callers_are_found_by_any_part_of_name_kana_or_phone(callers, session_factory,
                                                              typed, names):
    assert found(session_factory, typed) == names


def test_the_list_page_finds_a_caller_by_the_last_four_digits(as_role, callers):
    page = as_role("staff").get("/applications", {"name": "7777"})
    assert "1 件見つかりました" in page.text and "山﨑　一郎2" in page.text


_ALPHABET = "0123456789-たかはしタカハシﾀｶﾊｼ高髙橋崎﨑吉𠮷一二三aｂＣ　 ー①㈱"


def _by_substring_rule(by_id, queries):
    """(query, the ids whose name, kana or phone, folded in Python, holds the folded query)
    for each query that asks for anything."""
    for typed in queries:
        wanted = query_text(typed)
        if wanted:
            yield typed, {i for i, (name, kana, phone) in by_id.items() if wanted in fold(name)
                          or wanted in fold(kana) or wanted in phone_digits(phone)}


def test_the_database_finds_exactly_what_the_plain_substring_rule_finds(session_factory):
    # The LIKE over the stored key, run by the database, against folding each field in
    # Python and looking for the folded query in it: same rows for every query.
    rng = random.Random(16)
    rows = [tuple("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 6)))
                  for _ in range(3)) for _ in range(40)]
    ids = applications_of(session_factory, make_programme(session_factory), rows)
    by_id = dict(zip(ids, rows, strict=True))
    queries = [*("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 3)))
                 for _ in range(60)),
               *(r[0][1:4] + r[1][:2] for r in rows[:20]), *(r[2][-4:] for r in rows[:20])]
    with session_factory() as s:
        for typed, expected in _by_substring_rule(by_id, queries):
            got = set(s.execute(search.build_query(search.Criteria(name=typed))
                                .with_only_columns(Application.id)).scalars())
            assert got == expected, typed


def test_revision_0011_rewrites_every_key_both_ways(engine, session_factory, callers):
    erased = callers["Ｓｍｉｔｈ　Ｊｏｈｎ"]
    with engine.begin() as connection:
        # An erased application (disposal/erase.py) has an empty key: it stays empty.
        connection.execute(text("UPDATE applications SET search_key = '' WHERE id = :id"),
                           {"id": erased})
    migrations.downgrade(engine, "0010")
    with session_factory() as s:
        rows = s.execute(select(Application.id, Application.search_key, Application.name,
                                Application.kana, Application.phone)).all()
    assert {r.search_key for r in rows if r.id == erased} == {""}
    for r in rows:
        if r.id != erased:           # the earlier form: x + five hex digits, fields by y
            assert r.search_key == "y".join(
                "".join(f"x{ord(c):05x}" for c in part)
                for part in (fold(r.name), fold(r.kana), phone_digits(r.phone)))
    assert "ix_applications_birth_date" not in {
        i["name"] for i in inspect(engine).get_indexes("applications")}
    migrations.upgrade(engine)
    with session_factory() as s:
        rows = s.execute(select(Application.id, Application.search_key, Application.name,
                                Application.kana, Application.phone)).all()
    assert {r.id: r.search_key for r in rows} == {
        r.id: "" if r.id == erased else search_key(r.name, r.kana, r.phone) for r in rows}
    assert "ix_applications_birth_date" in {
        i["name"] for i in inspect(engine).get_indexes("applications")}
    assert found(session_factory, "2222") == {"髙橋　大輔"}
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:   # the trigram index, rebuilt over the new keys
            assert connection.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_applications_search_key'"
            )).scalar_one().endswith("USING gin (search_key gin_trgm_ops)")


@pytest.mark.parametrize("sort", list(search.SORTS))
@pytest.mark.parametrize("descending", [True, False])
def test_a_rare_name_is_paged_through_its_matches_first_with_the_same_rows(
        session_factory, sort, descending):
    # search._few (the plan for at most COUNT_CAP matches) against the plain query, page by
    # page through keyset cursors, with ties in the sort column (one received_on for all).
    programme = make_programme(session_factory)
    applications_of(session_factory, programme, [
        (f"高橋　{n}", "タカハシ", f"042-000-{n:04d}") for n in range(9)])
    make_applications(session_factory, programme, 4, start=100)     # 山田: never matched
    with session_factory() as s:
        for typed in ("髙橋", "042-000", "0003", "山田", "どこにもない"):
            criteria = search.Criteria(name=typed, sort=sort, descending=descending)
            total = search.count_matches(s, criteria)
            assert not total.capped
            plain, few = [], []
            for pages, given in ((plain, None), (few, total)):
                cursor = None
                while True:
                    page = search.search(s, replace(criteria, after=search.decode_cursor(
                        sort, cursor)), 2, given)
                    pages.append([a.id for a in page.items])
                    cursor = page.next_cursor
                    if cursor is None:
                        break
            assert few == plain and sum(map(len, plain)) == total.count, typed


def test_asking_the_index_by_fewer_trigrams_finds_exactly_the_same_rows(session_factory):
    # build_query(through_index=True) — every third trigram for the index, the whole
    # substring tested after — against the plain LIKE and the plain substring rule, for
    # queries long and short (a kanji is five letters of the key, a kana two, a digit one),
    # including pieces that sit in the key in order but not together.
    rng = random.Random(30)
    rows = [tuple("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 9)))
                  for _ in range(3)) for _ in range(60)]
    rows += [("高橋　たかし", "たかはし", "042-123-4567"), ("高木　橋子", "たかぎ　はしこ", "0421234567")]
    ids = applications_of(session_factory, make_programme(session_factory), rows)
    by_id = dict(zip(ids, rows, strict=True))
    queries = [*("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(2, 6)))
                 for _ in range(80)),
               *(r[0][1:6] for r in rows[:30]), *(r[1][:4] for r in rows[:30]),
               "高橋", "高橋たかし", "たかはし", "0421234567", "042-1234", "高木橋子", "たかぎはし"]
    sparse = 0
    with session_factory() as s:
        for typed, expected in _by_substring_rule(by_id, queries):
            criteria = search.Criteria(name=typed)
            plain, fast = (set(s.execute(search.build_query(criteria, through_index=given)
                                         .with_only_columns(Application.id)).scalars())
                           for given in (False, True))
            assert plain == fast == expected, typed
            assert search.count_matches(s, criteria).count == len(expected), typed
            sparse += len(search.query_pattern(typed) or "") >= search.SPARSE_FROM
    assert sparse > 30        # many queries took the fewer-trigrams form


def _pages(dbsession, criteria, total, page_size=2):
    """Every page of ``criteria``'s matches, through the keyset cursors, as lists of ids."""
    pages, cursor = [], None
    for _ in range(100):        # a cursor that does not move on fails the test, not hangs it
        page = search.search(dbsession, replace(criteria, after=search.decode_cursor(
            criteria.sort, cursor)), page_size, total)
        pages.append([a.id for a in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError(f"more than 100 pages: {pages[-3:]}")


@pytest.mark.parametrize("sort", list(search.SORTS))
@pytest.mark.parametrize("descending", [True, False])
def test_a_common_name_is_paged_by_walking_the_list_order_with_the_same_rows(
        session_factory, monkeypatch, sort, descending):
    # search._walk (the plan for more than COUNT_CAP matches: the list's order walked for at
    # most WALK rows, the name tested on them) against the plain query, page by page through
    # keyset cursors: walks that fill the page and walks too short (the plain query then
    # answers), with the other conditions inside the walk and ties in every sort column.
    programme = make_programme(session_factory)
    ids = applications_of(session_factory, programme, [
        (f"高橋　{n}", "タカハシ", f"042-000-{n:04d}") if n % 3 else (f"山田　{n}", "ヤマダ", "")
        for n in range(24)])
    with session_factory() as s, s.begin():
        for n, application_id in enumerate(ids):
            application = s.get(Application, application_id)
            application.received_on = date(2020, 6, 1 + n % 4)
            application.status_code = ("received", "reviewing")[n % 5 == 0]
            application.receipt_number_normalised = f"9{n * 7 % 24:07d}"   # not in id order
            application.updated_at = datetime(2020, 6, 1, 9, n % 6)
    walks = []

    def spy(*args, **kwargs):
        walks.append(found := walk(*args, **kwargs))
        return found

    walk = search._walk
    monkeypatch.setattr(search, "_walk", spy)
    capped = search.Total(search.COUNT_CAP, True)
    with session_factory() as s:
        for size in (1, 4, 9, 10_000):
            monkeypatch.setattr(search, "WALK", size)
            monkeypatch.setattr(search, "PHONE_WALK", size)
            for criteria in (search.Criteria(name=n) for n in ("髙橋", "たかはし", "042-000", "山田",
                                                                "どこにもない")):
                for narrowed in (criteria, replace(criteria, status="received"),
                                 replace(criteria, received_from=date(2020, 6, 2),
                                         received_to=date(2020, 6, 3))):
                    narrowed = replace(narrowed, sort=sort, descending=descending)
                    plain = _pages(s, narrowed, None)
                    assert _pages(s, narrowed, capped) == plain, (size, narrowed)
                    expected = s.execute(search.build_query(narrowed).with_only_columns(
                        Application.id)).scalars().all()
                    assert sorted(i for page in plain for i in page) == sorted(expected)
    # Both ways were taken: pages the walk found, and walks too short for their page.
    assert any(found is None for found in walks) and any(found for found in walks)
