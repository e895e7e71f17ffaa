"""Finding people as callers give their names: widths, spaces, kana, 異体字, phone."""

import re
from datetime import date

import pytest
from sqlalchemy import select, text

from intranet import migrations
from intranet.applications import search
from intranet.applications.models import Application
from intranet.applications.search_key import search_key
from tests.conftest import login
from tests.factories import make_applications, make_programme


@pytest.fixture
def people(session_factory):
    programme = make_programme(session_factory)
    ids = make_applications(session_factory, programme, 4)
    named = [("髙橋　大輔", "タカハシ　ダイスケ", "042-111-2222"), ("山﨑　花子", "ヤマザキ　ハナコ", ""),
             ("渡邉　一郎", "ワタナベ　イチロウ", ""), ("齋藤　𠮷男", "サイトウ　ヨシオ", "")]
    with session_factory() as s, s.begin():
        for application_id, (name, kana, phone) in zip(ids, named, strict=True):
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
    assert "日付の形式が正しくありません" in page.text
