"""The mirror's services, one of each per worker: the active snapshot, the rate limiter,
the usage counter."""

import atexit

from public_mirror.ratelimit import RateLimiter, client_address
from public_mirror.store import ActiveSnapshot
from public_mirror.usage import UsageCounter


def includeme(config):
    settings = config.get_settings()
    paths = settings["mirror.paths"]
    registry = config.registry
    registry["active_snapshot"] = ActiveSnapshot(paths.active, settings["mirror.trust"])
    registry["rate_limiter"] = RateLimiter(settings["mirror.rate_limit"],
                                           settings["mirror.rate_window"])
    registry["usage"] = UsageCounter(paths.usage)
    atexit.register(registry["usage"].flush)
    # Load the snapshot now, not on the first resident's request.
    registry["active_snapshot"].current()

    config.add_request_method(
        lambda request: request.registry["active_snapshot"].current(), "snapshot", reify=True)
    config.add_request_method(
        lambda request: client_address(request.environ, settings["mirror.trusted_proxies"]),
        "client_address", reify=True)
