"""Finding people as callers give their names: widths, spaces, kana, 異体字, phone."""

import pytest
from sqlalchemy import select, text

from intranet import migrations
from intranet.applications.models import Application
from intranet.applications.search_key import search_key
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
