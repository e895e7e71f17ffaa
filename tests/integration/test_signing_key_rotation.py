"""A signing-key rotation as docs/runbook.*.md does it, on the deployed shape of the settings
(the signer signs with every key in its folder, the pusher and the public host trust every
public key in theirs, audit checkpoints are checked with every key ever used): the next key
placed beside the old one, one publication signed by both, the old one retired — and the
audit chain still verifies against every checkpoint, old key's and new key's alike."""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import transaction

from intranet.audit import services as audit_services
from intranet.db import get_tm_session
from intranet.publications import builder, recorder
from intranet.publications.builder import BuildPlan
from public_mirror.receive import receive_once
from public_mirror.settings import load
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import JOB, approved_request
from transfer import checkpoints, config, signer, spool
from transfer.build import sign_body
from transfer.cli import main as transfer_cli
from transfer.keys import generate_lookup_key, generate_signing_key, load_signing_key
from transfer.push import push_signed
from transfer.snapshot import parse
from transfer.verify import Origin


class Deployed:
    """The intranet's three folders of keys and a public host's trusted folder."""

    def __init__(self, root: Path):
        self.root = root
        for name in ("signer", "pusher-trusted", "checkpoint-keys", "trusted", "inbox", "spool"):
            (root / name).mkdir()
        generate_signing_key(root / "signer/sign.key", root / "signer/sign.key.pub")
        self.lookup = generate_lookup_key(root / "lookup.key")
        for target in ("pusher-trusted", "checkpoint-keys", "trusted"):
            shutil.copy(root / "signer/sign.key.pub", root / target / "intranet-sign.pub")
        spool.prepare(root / "spool")
        self.checkpoint_file = root / "audit-checkpoints.jsonl"
        self.build = BuildPlan(self.lookup, Origin("142158", "prod"), timedelta(hours=72), JOB,
                               checkpoint_file=self.checkpoint_file,
                               destinations=(f"outbox:{root / 'inbox'}",))

    def signer(self):
        return config.signer_settings({
            "transfer.spool_dir": str(self.root / "spool"), "transfer.origin": "142158:prod",
            "transfer.signing_keys": str(self.root / "signer"),
            "audit.checkpoint_file": str(self.checkpoint_file)})

    def pusher(self):
        return config.pusher_settings({
            "transfer.spool_dir": str(self.root / "spool"), "transfer.origin": "142158:prod",
            "transfer.public_keys": str(self.root / "pusher-trusted"),
            "transfer.destinations": f"outbox:{self.root / 'inbox'}"})

    def publish(self, session_factory, note):
        approved_request(session_factory, note=note)
        root = self.root / "spool"
        recorder.record_results(session_factory, self.build, root)
        builder.build_spool(session_factory, self.build, root)
        signing = self.signer()
        signed = signer.sign_spool(root, signing.signing_keys, signing.origin,
                                   checkpoint_file=signing.checkpoint_file)
        pushing = self.pusher()
        result = push_signed(root, pushing.destinations, pushing.policy)
        recorder.record_results(session_factory, self.build, root)
        assert result is not None and result["verified"], result
        return signed.path.read_bytes()

    def receive(self):
        loaded = load({"mirror.inbox": str(self.root / "inbox"),
                       "mirror.quarantine": str(self.root / "quarantine"),
                       "mirror.state": str(self.root / "state"),
                       "mirror.trusted_keys": str(self.root / "trusted"),
                       "mirror.lookup_key": str(self.root / "lookup.key"),
                       "mirror.origin": "142158:prod",
                       **{f"site.{k}{lang}": "x" for k in ("municipality_name", "contact")
                          for lang in ("", ".en", ".ja-easy")}})
        return receive_once(loaded["mirror.paths"], loaded["mirror.trust"],
                            lookup_keys=loaded["mirror.lookup_keys"])

    def verify_audit(self, session_factory):
        keys = checkpoints.trusted_keys(str(self.root / "checkpoint-keys"))
        signed = checkpoints.read_file(self.checkpoint_file, keys)
        with transaction.manager:
            return audit_services.verify(get_tm_session(session_factory, transaction.manager),
                                         signed), signed


def signed_by(data):
    return sorted(s["keyid"] for s in parse(data).signatures)


def resigned(data, key, sequence):
    """The same table with a newer sequence, signed by ``key`` alone (a thief's, or a file
    left behind from before the rotation)."""
    snapshot = parse(data)
    header = {**snapshot.header, "sequence": sequence}
    return sign_body(bytes(snapshot.body), header["entry_count"], 0, signing_keys=[key],
                     header=header).data


@pytest.fixture
def deployed(tmp_path, session_factory, accounts):
    make_applications(session_factory, make_programme(session_factory), 4)
    return Deployed(tmp_path)


def test_a_signing_key_rotation_as_the_runbook_does_it(deployed, session_factory):
    root = deployed.root
    old = load_signing_key(root / "signer/sign.key")
    first = deployed.publish(session_factory, "回転の前")
    assert signed_by(first) == [old.key_id]
    assert [o.accepted for o in deployed.receive()] == [True]

    # 1. The next key beside the old one; its public half where the pusher, the audit
    #    check and the public host look for keys.
    assert transfer_cli(["keygen", "--signing-key", str(root / "signer/sign-next.key")]) == 0
    new = load_signing_key(root / "signer/sign-next.key")
    for target in ("pusher-trusted", "checkpoint-keys", "trusted"):
        shutil.copy(root / "signer/sign-next.key.pub", root / target / "intranet-sign-next.pub")
    # 2. One publication signed by both, accepted.
    both = deployed.publish(session_factory, "両方の鍵で")
    assert signed_by(both) == sorted([old.key_id, new.key_id])
    [accepted] = deployed.receive()
    assert accepted.accepted, accepted.reason
    # 3. The public host trusts the new key only: a file signed by the old key alone is
    #    refused, even with a newer sequence.
    (root / "trusted/intranet-sign-next.pub").replace(root / "trusted/intranet-sign.pub")
    (root / "inbox/snapshot-old.bin").write_bytes(
        resigned(both, old, parse(both).header["sequence"] + 1))
    [refused] = deployed.receive()
    assert not refused.accepted and "SignatureRejected" in refused.reason
    # 4. The intranet retires the old key: the next key takes its name; the old public half
    #    stays among the checkpoint keys (it signed the checkpoints before the rotation).
    (root / "signer/sign.key").unlink()
    (root / "signer/sign-next.key").replace(root / "signer/sign.key")
    (root / "signer/sign-next.key.pub").replace(root / "signer/sign.key.pub")
    (root / "pusher-trusted/intranet-sign-next.pub").replace(
        root / "pusher-trusted/intranet-sign.pub")
    (root / "checkpoint-keys/intranet-sign.pub").replace(
        root / "checkpoint-keys/retired-20261201.pub")
    (root / "checkpoint-keys/intranet-sign-next.pub").replace(
        root / "checkpoint-keys/intranet-sign.pub")
    third = deployed.publish(session_factory, "新しい鍵だけで")
    assert signed_by(third) == [new.key_id]
    [accepted] = deployed.receive()
    assert accepted.accepted, accepted.reason
    verdict, signed = deployed.verify_audit(session_factory)
    assert verdict.ok, verdict
    assert {c.key_id for c in signed} == {old.key_id, new.key_id}


def test_the_pusher_sends_nothing_signed_only_by_a_key_it_no_longer_trusts(deployed,
                                                                           session_factory):
    root = deployed.root
    deployed.publish(session_factory, "回転の前")
    transfer_cli(["keygen", "--signing-key", str(root / "signer/sign-next.key")])
    shutil.copy(root / "signer/sign-next.key.pub", root / "pusher-trusted/intranet-sign.pub")
    approved_request(session_factory, note="古い鍵だけ")
    spool_root = root / "spool"
    recorder.record_results(session_factory, deployed.build, spool_root)
    builder.build_spool(session_factory, deployed.build, spool_root)
    (root / "signer/sign-next.key").unlink()     # signed with the old key alone
    signing = deployed.signer()
    signer.sign_spool(spool_root, signing.signing_keys, signing.origin, checkpoint_file=None)
    pushing = deployed.pusher()
    result = push_signed(spool_root, pushing.destinations, pushing.policy)
    assert result is not None and not result["verified"]
    assert "SignatureRejected" in result["reason"]
    assert len(list((root / "inbox").iterdir())) == 1     # only the first publication
