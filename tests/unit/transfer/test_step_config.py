"""A step's configuration naming what belongs to another step is refused, wherever it hides."""

import re

import pytest

from transfer import config, step_config
from transfer.config import TransferConfigError


def ini(tmp_path, text):
    path = tmp_path / "step.ini"
    path.write_text(text)
    return path


GOOD = "[shinsei-transfer]\ntransfer.spool_dir = /spool\ntransfer.origin = 142158:prod\n"


def test_a_clean_pusher_configuration_is_read(tmp_path):
    assert step_config.read(ini(tmp_path, GOOD), "pusher", environ={})["transfer.origin"] \
        == "142158:prod"


@pytest.mark.parametrize("where", ["[shinsei-transfer]", "[DEFAULT]", "[app:main]"])
def test_the_database_url_is_refused_in_any_section(tmp_path, where):
    line = "sqlalchemy.url = postgresql:///shinsei\n"
    path = ini(tmp_path, GOOD + line if where == "[shinsei-transfer]"
               else f"{where}\n{line}" + GOOD)
    with pytest.raises(TransferConfigError, match=r"sqlalchemy\.url"):
        step_config.read(path, "pusher", environ={})


@pytest.mark.parametrize(("step", "name"), [("pusher", "transfer.signing_keys"),
                                            ("pusher", "transfer.lookup_key"),
                                            ("signer", "transfer.client_key"),
                                            ("signer", "transfer.destinations")])
def test_what_belongs_to_another_step_is_refused(tmp_path, step, name):
    with pytest.raises(TransferConfigError, match=re.escape(name)):
        step_config.read(ini(tmp_path, GOOD + f"{name} = /etc/x\n"), step, environ={})


def test_the_database_url_in_the_environment_is_refused(tmp_path):
    with pytest.raises(TransferConfigError, match="SHINSEI_DATABASE_URL"):
        step_config.read(ini(tmp_path, GOOD), "signer",
                         environ={"SHINSEI_DATABASE_URL": "postgresql:///x"})


def test_a_missing_or_unreadable_file_is_one_sentence(tmp_path):
    with pytest.raises(TransferConfigError, match="設定ファイルがありません"):
        step_config.read(tmp_path / "none.ini", "pusher", environ={})
    with pytest.raises(TransferConfigError, match="設定ファイルとして読めません"):
        step_config.read(ini(tmp_path, "no section here\n"), "pusher", environ={})
    with pytest.raises(TransferConfigError, match=r"\[shinsei-transfer\] の節がありません"):
        step_config.read(ini(tmp_path, "[other]\na = b\n"), "pusher", environ={})


@pytest.mark.parametrize("origin", ["", "142158", "142158:staging"])
def test_the_pusher_needs_an_origin_it_can_check(tmp_path, origin):
    settings = {"transfer.spool_dir": "/spool", "transfer.origin": origin,
                "transfer.public_keys": "/none.pub", "transfer.destinations": "outbox:/x"}
    with pytest.raises(TransferConfigError, match=r"transfer\.origin"):
        config.pusher_settings(settings)
