"""``shinsei-transfer publish``: the three steps of a publication, in order, in one process —
for a single demo machine and the tests. Deployed, each step is its own OS user and unit and
this function does not run (deploy/systemd/shinsei-transfer-*.service, docs/security-review.md):

- the builder (intranet.publications.builder) reads the approved request's frozen content
  from the database and writes the unsigned table to the spool; no key, no network;
- the signer (transfer.signer) signs it with the signing key; no database, no
  network;
- the pusher (transfer.push) sends what verifies to the public hosts; no database, no key;
- the recorder (intranet.publications.recorder, the builder's user) records the pusher's
  report in the publication, its deliveries and the audit chain.

What is approved is what is published: the table is built from the request's frozen rows
and wording after their digest is reproduced; a run with nothing approved publishes
nothing, timer or not, but still has the audit head signed (a checkpoint every run).
"""

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from intranet.audit import writer
from intranet.publications.builder import BuildPlan, build_spool, job_actor
from intranet.publications.recorder import record_results
from transfer import config, spool
from transfer.checkpoints import trusted_keys
from transfer.config import Settings, TransferConfigError
from transfer.keys import SigningKey
from transfer.push import push_signed
from transfer.signer import sign_spool
from transfer.transports import Destination
from transfer.verify import Origin, TrustPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishPlan:
    signing_keys: list[SigningKey]
    lookup_secret: bytes
    origin: Origin
    destinations: list[Destination]
    valid_for: timedelta
    actor: writer.Actor
    # Where signed audit checkpoints are appended (audit.checkpoint_file); None: only in
    # the chain and the snapshot header.
    checkpoint_file: Path | None = None
    # With four eyes (the default) an approval by the requester is refused here too.
    four_eyes: bool = True
    # The spool the steps hand over through (transfer.spool_dir); None: a fresh one per run.
    spool_dir: Path | None = None

    def build_plan(self) -> BuildPlan:
        return BuildPlan(self.lookup_secret, self.origin, self.valid_for, self.actor,
                         self.four_eyes,
                         destinations=tuple(d.name for d in self.destinations))


def plan_from_settings(settings: Settings) -> PublishPlan:
    """Keys, origin and destinations from ``transfer.*``; the job's identity from the OS.

    Raises ``transfer.config.TransferConfigError`` naming the setting that is wrong."""
    read = config.transfer_settings(settings)
    return PublishPlan(
        signing_keys=read.signing_keys, lookup_secret=read.lookup_secret, origin=read.origin,
        destinations=read.destinations, valid_for=read.valid_for, actor=job_actor(),
        checkpoint_file=config.checkpoint_file(settings),
        four_eyes=_four_eyes(settings), spool_dir=_spool_dir(settings))


def build_plan_from_settings(settings: Settings) -> tuple[BuildPlan, Path]:
    """The builder's (and recorder's) plan from the intranet ini, and the spool root.

    The builder must not be able to sign: an ini naming the signing key is refused."""
    if settings.get("transfer.signing_keys"):
        raise TransferConfigError(
            "transfer.signing_keys があります: 手順を分けた構成では署名鍵は署名係の設定"
            "（signer.ini）にだけ書きます。intranet.ini から取り除いてください")
    checkpoint_keys = settings.get("audit.checkpoint_keys", "")
    root = config.spool_dir(settings)
    plan = BuildPlan(
        lookup_secret=config.lookup_secret(settings), origin=config.origin(settings),
        valid_for=config.valid_for(settings), actor=job_actor(), four_eyes=_four_eyes(settings),
        checkpoint_file=config.checkpoint_file(settings),
        checkpoint_keys=trusted_keys(checkpoint_keys) if checkpoint_keys else [],
        destinations=config.destination_names(settings))
    return plan, root


def publish(session_factory, plan: PublishPlan, scheduled: bool = False):
    """Publish once; return (publication ids, deliveries), or ([], []) if nothing to do.

    ``scheduled`` (the timer's run) changes nothing: it too publishes approved requests
    only — a run without one has its audit checkpoint signed and sends the current
    publication again to a destination that missed it (with a spool kept between runs,
    ``transfer.spool_dir``: a fresh one holds no signed file to send again).
    """
    build = plan.build_plan()
    with _spool_root(plan.spool_dir) as root:
        record_results(session_factory, build, root)          # an earlier run's report
        spooled = build_spool(session_factory, build, root)
        checkpoint = None
        try:
            signed = sign_spool(root, plan.signing_keys, plan.origin,
                                checkpoint_file=plan.checkpoint_file)
            checkpoint = signed.checkpoint
            if signed.sequence is not None or signed.catch_up is not None:
                push_signed(root, plan.destinations,
                            TrustPolicy([key.public_key for key in plan.signing_keys],
                                        plan.origin))
        except spool.SpoolRefused as refused:
            log.error("the signer refused the spool: %s", refused)
        finally:
            # Whatever happened, the publication is settled (failed, with the reason, if
            # the signer or the pusher stopped short).
            deliveries = record_results(session_factory, build, root, checkpoint)
    if spooled.publication_id is None:
        if spooled.catch_up is not None and deliveries:
            return [spooled.catch_up["publication"]], deliveries
        log.info("nothing to publish: no approved request%s",
                 " (scheduled run)" if scheduled else "")
        return [], []
    return [spooled.publication_id], deliveries


@contextlib.contextmanager
def _spool_root(configured: Path | None) -> Iterator[Path]:
    if configured is not None:
        spool.prepare(configured)
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="shinsei-spool-") as temporary:
        spool.prepare(Path(temporary))
        yield Path(temporary)


def _spool_dir(settings: Settings) -> Path | None:
    return config.spool_dir(settings) if settings.get("transfer.spool_dir") else None


def _four_eyes(settings: Settings) -> bool:
    return str(settings.get("publication.four_eyes", "true")).lower() not in (
        "false", "0", "no", "off")
