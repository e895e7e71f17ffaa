"""Which build serves the staff: its version in every page's footer and in ``/healthz``
(with the database's schema against this build's newest migration)."""

from sqlalchemy import text

from tests.conftest import login
from transfer import version


def test_every_staff_page_names_the_build_in_its_footer(testapp):
    assert f"shinsei-status {version.current()}" in testapp.get("/login").text
    login(testapp, "staff")
    footer = testapp.get("/dashboard").html.find("footer")
    assert version.current() in footer.text and version.current().startswith(version.BASE)


def test_healthz_answers_without_sign_in_with_version_and_schema(testapp):
    from intranet.health import schema_head

    health = testapp.get("/healthz", status=200).json
    assert health["status"] == "ok" and health["version"] == version.current()
    assert health["schema"] == health["schema_head"] == schema_head()
    assert schema_head().startswith("0")
    # Nothing about anyone: only these keys.
    assert set(health) == {"status", "version", "schema", "schema_head"}


def test_healthz_says_when_the_schema_is_behind_this_build(testapp, engine):
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    health = testapp.get("/healthz", status=503).json
    assert health["status"] == "schema" and health["schema"] == "0001"
    assert "initdb" in health["problem"] and health["version"] == version.current()
