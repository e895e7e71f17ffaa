"""The spool between the steps: every reader refuses what its writer could not have written,
with the file, the field and the reason, and never follows a link or reads past a cap."""

import hashlib
import json
import os

import pytest

from transfer import spool
from transfer.snapshot import ENTRY_SIZE

HEAD = {"count": 3, "head_hash": "a" * 64, "at": "2026-11-26T10:00:00.000000Z"}


@pytest.fixture
def built(tmp_path):
    body = bytes(range(ENTRY_SIZE)) * 2
    spool.write_built(tmp_path, header={"format": 2, "sequence": 5, "payload_type": "x"}, body=body,
                      entry_count=2, skipped=0,
                      publication={"id": 1, "content_digest": "d" * 64}, checkpoint=HEAD)
    return tmp_path


def rewrite(folder, **changes):
    manifest = json.loads((folder / spool.MANIFEST).read_text())
    manifest.update(changes)
    (folder / spool.MANIFEST).write_text(json.dumps(manifest))


def refused(folder, **kw):
    with pytest.raises(spool.SpoolRefused) as caught:
        spool.read_built(folder, **kw)
    return str(caught.value)


def test_a_written_spool_reads_back(built):
    read = spool.read_built(built)
    assert read.sequence == 5 and len(read.body) == 2 * ENTRY_SIZE
    assert read.manifest["checkpoint"] == HEAD


def test_nothing_approved_is_the_audit_head_alone(tmp_path):
    spool.write_built(tmp_path, header=None, body=b"", entry_count=0, skipped=0,
                      publication=None, checkpoint=HEAD)
    read = spool.read_built(tmp_path)
    assert read.header is None and read.sequence is None
    assert not (tmp_path / spool.TABLE).exists()


@pytest.mark.parametrize(("change", "words"), [
    ({"kind": "something-else"}, "kind"),
    ({"version": 2}, "version"),
    ({"entry_count": 3}, "entry_count 3"),
    ({"entry_count": True}, "entry_count は int"),          # a bool is no count
    ({"body_sha256": "0" * 64}, "SHA-256"),
    ({"body_sha256": "not hex"}, "body_sha256"),
    ({"checkpoint": {"count": -1, "head_hash": "a" * 64, "at": "x"}}, "checkpoint.count"),
    ({"checkpoint": "head"}, "checkpoint は dict"),
    ({"publication": None}, "publication"),
    ({"header": ["sequence", 5]}, "header は dict"),
    # The entry size comes from the header's format: one the signer does not know is refused.
    ({"header": {"format": 9, "sequence": 5}}, "header.format 9"),
    ({"header": {"format": 1, "sequence": 5}}, "× 21 バイト"),
])
def test_a_malformed_manifest_is_refused_naming_the_field(built, change, words):
    rewrite(built, **change)
    message = refused(built)
    assert words in message and str(built) in message, message


def test_not_json_and_not_utf8_are_refused_with_the_line(built):
    (built / spool.MANIFEST).write_text('{"kind":\n  oops}')
    assert "manifest.json:2: JSON として読めません" in refused(built)
    (built / spool.MANIFEST).write_bytes(b"\xff\xfe{}")
    assert "UTF-8 ではありません" in refused(built)


def test_an_oversized_manifest_is_refused_before_it_is_read(built):
    with (built / spool.MANIFEST).open("r+b") as handle:
        handle.truncate(spool.MAX_MANIFEST + 1)
    assert "上限" in refused(built) and "読まずに拒否" in refused(built)


def test_a_table_bigger_than_the_cap_is_refused(built):
    assert "body_length" in refused(built, max_table=ENTRY_SIZE)


def test_a_table_that_grew_after_the_manifest_is_refused(built):
    with (built / spool.TABLE).open("ab") as handle:
        handle.write(b"\0" * ENTRY_SIZE)
    assert "上限" in refused(built)


def test_a_table_swapped_for_another_is_refused(built):
    (built / spool.TABLE).write_bytes(bytes(2 * ENTRY_SIZE))
    assert "SHA-256" in refused(built)


def test_links_are_not_followed(built, tmp_path_factory):
    secret = tmp_path_factory.mktemp("elsewhere") / "sign.key"
    secret.write_text("the signing key")
    (built / spool.MANIFEST).unlink()
    os.symlink(secret, built / spool.MANIFEST)
    assert "リンクは辿りません" in refused(built)


def test_a_fifo_is_not_read(built):
    (built / spool.MANIFEST).unlink()
    os.mkfifo(built / spool.MANIFEST)
    assert "通常のファイルではありません" in refused(built)


# ---- the pusher's report, as the recorder reads it ----------------------------------------

def report(**changes):
    delivery = {"destination": "sftp://u@h:22/inbox", "delivered": True, "reason": "",
                "host_key_fingerprint": "SHA256:x", "attempts": 1}
    return {"sequence": 5, "verified": True, "reason": "", "sha256": hashlib.sha256().hexdigest(),
            "size": 10, "entries": 1, "signing_key_ids": ["k"], "content_digest": "d" * 64,
            "audit_checkpoint": 3, "pushed_by": "shinsei-pusher@intranet",
            "deliveries": [delivery], **changes}


def test_a_report_reads_back_with_only_the_known_delivery_fields(tmp_path):
    extra = report()
    extra["deliveries"][0]["__class__"] = "os.system"
    spool.write_result(tmp_path, extra)
    read = spool.read_result(tmp_path)
    assert set(read["deliveries"][0]) == set(spool.DELIVERY_FIELDS)


@pytest.mark.parametrize(("change", "words"), [
    ({"sequence": "5"}, "sequence は int"),
    ({"deliveries": [{"destination": "x" * 300}]}, "deliveries[0].destination"),
    ({"deliveries": ["delivered"]}, "deliveries[0] が辞書ではありません"),
    ({"deliveries": [report()["deliveries"][0]] * 65}, "64 件以内"),
    ({"sha256": "nope"}, "sha256"),
    ({"audit_checkpoint": "3"}, "audit_checkpoint"),
])
def test_a_forged_report_is_refused(tmp_path, change, words):
    spool.write_result(tmp_path, report(**change))
    with pytest.raises(spool.SpoolRefused) as caught:
        spool.read_result(tmp_path)
    assert words in str(caught.value)


def test_no_report_is_none(tmp_path):
    assert spool.read_result(tmp_path) is None


def test_a_report_from_before_catch_up_is_a_delivery_without_an_id(tmp_path):
    spool.write_result(tmp_path, report())
    read = spool.read_result(tmp_path)
    assert read["kind"] == spool.DELIVERY and read["report"] == ""


@pytest.mark.parametrize(("change", "words"), [
    ({"kind": "rollback"}, "kind"),
    ({"kind": "redelivery"}, "report"),                       # a re-delivery needs its id
    ({"kind": "redelivery", "report": "../../x"}, "16 進 32 桁"),
])
def test_a_report_of_another_kind_or_without_its_id_is_refused(tmp_path, change, words):
    spool.write_result(tmp_path, report(**change))
    with pytest.raises(spool.SpoolRefused) as caught:
        spool.read_result(tmp_path)
    assert words in str(caught.value)


# ---- catch-up: the builder's plan, passed on by the signer to the pusher -------------------

PLAN = {"publication": 3, "sequence": 5, "content_digest": "d" * 64,
        "held": {"sftp://u@h1:22/inbox": 5, "sftp://u@h2:22/inbox": 4}}


def test_the_catch_up_plan_travels_only_with_nothing_new_to_sign(tmp_path, built):
    assert spool.read_built(built).catch_up is None
    alone = tmp_path / "alone"
    alone.mkdir()
    spool.write_built(alone, header=None, body=b"", entry_count=0, skipped=0,
                      publication=None, checkpoint=HEAD, catch_up=PLAN)
    assert spool.read_built(alone).catch_up == PLAN
    rewrite(built, catch_up=PLAN)                  # beside a new table: ignored
    assert spool.read_built(built).catch_up is None


@pytest.mark.parametrize(("change", "words"), [
    ({"sequence": True}, "catch_up.sequence は int"),
    ({"publication": 0}, "catch_up.publication"),
    ({"held": {"x" * 300: 4}}, "held"),
    ({"held": {"sftp://u@h1:22/inbox": "5"}}, "held"),
    ({"held": {f"outbox:/{n}": 1 for n in range(65)}}, "64 件以内"),
])
def test_a_malformed_catch_up_plan_is_refused(tmp_path, change, words):
    spool.write_built(tmp_path, header=None, body=b"", entry_count=0, skipped=0,
                      publication=None, checkpoint=HEAD, catch_up={**PLAN, **change})
    message = refused(tmp_path)
    assert words in message, message
    spool.write_catch_up(tmp_path, {**PLAN, **change})
    with pytest.raises(spool.SpoolRefused):
        spool.read_catch_up(tmp_path)


def test_the_pusher_reads_the_plan_the_signer_wrote(tmp_path):
    assert spool.read_catch_up(tmp_path) is None
    spool.write_catch_up(tmp_path, PLAN)
    assert spool.read_catch_up(tmp_path) == PLAN
    spool.remove_catch_up(tmp_path)
    assert spool.read_catch_up(tmp_path) is None
