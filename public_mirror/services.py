"""The mirror's services, one of each per worker, found by type: ``request.services``.

The active snapshot, the rate limiter (shared by every worker through a file), the usage
counter, the resident desk that answers questions, and the pages that show the answers.
"""

import atexit
import contextlib
import signal
from dataclasses import dataclass

from public_mirror.i18n import available_languages
from public_mirror.pages import Pages, site_settings
from public_mirror.ratelimit import SharedRateLimiter, client_address
from public_mirror.receiver_state import ReceiverWatch
from public_mirror.resident import ResidentDesk
from public_mirror.settings import MirrorPaths
from public_mirror.store import BESIDE_OVER, ActiveSnapshot
from public_mirror.usage import UsageCounter


@dataclass(frozen=True)
class MirrorServices:
    paths: MirrorPaths
    snapshots: ActiveSnapshot
    limiter: SharedRateLimiter
    usage: UsageCounter
    desk: ResidentDesk
    pages: Pages
    trusted_proxies: frozenset
    receiver: ReceiverWatch


def build(settings: dict, languages: list[str]) -> MirrorServices:
    paths = settings["mirror.paths"]
    snapshots = ActiveSnapshot(paths.active, settings["mirror.trust"], ledger=paths.last_sequence,
                               beside_over=BESIDE_OVER)
    limiter = SharedRateLimiter(settings["mirror.rate_limit_file"], settings["mirror.rate_limit"],
                                settings["mirror.rate_window"],
                                secret=settings["mirror.lookup_secret"])
    usage = UsageCounter(paths.usage, report=settings["mirror.usage_report"])
    desk = ResidentDesk(snapshots=snapshots, secret=settings["mirror.lookup_secret"],
                        lookup_keys=settings["mirror.lookup_keys"],
                        limiter=limiter, usage=usage, languages=languages,
                        maintenance=settings["mirror.maintenance"],
                        maintenance_file=settings["mirror.maintenance_file"],
                        exempt=settings["mirror.rate_limit_exempt"])
    pages = Pages(site_settings(settings), languages, settings["mirror.public_base_url"],
                  settings.get("site.texts"))
    return MirrorServices(paths, snapshots, limiter, usage, desk, pages,
                          frozenset(settings["mirror.trusted_proxies"]),
                          ReceiverWatch(paths.inbox, paths.activation_log))


def services(request) -> MirrorServices:
    return request.registry.mirror_services


def flush_on_exit(usage: UsageCounter) -> None:
    """Usage counted since the last flush is written when the process is told to stop
    (systemd sends SIGTERM): flush, then end as the signal would have."""
    atexit.register(usage.flush)
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        usage.flush()
        if callable(previous):
            previous(signum, frame)
        raise SystemExit(128 + signum)

    # Outside the main thread (an app built inside a test's thread) only atexit can help.
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, on_term)


def includeme(config):
    settings = config.get_settings()
    registry = config.registry
    registry.mirror_services = build(settings, available_languages())
    flush_on_exit(registry.mirror_services.usage)
    # Load the snapshot now, not on the first resident's request.
    registry.mirror_services.snapshots.current()
    config.add_request_method(services, "services", reify=True)
    config.add_request_method(
        lambda request: client_address(request.environ, settings["mirror.trusted_proxies"]),
        "client_address", reify=True)
