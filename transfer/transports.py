"""Where a signed snapshot goes: an SFTP inbox on each public host, or an outbox directory.

Both follow the same rule: the file appears under its final name complete or not at all
(written under a temporary dot-name, then renamed in one step), so the receiver never
reads half a snapshot. Each destination reports its own result; one failing host does
not stop the others (fan-out behind a load balancer).
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from transfer.files import write_atomically

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    destination: str
    delivered: bool
    reason: str = ""
    host_key_fingerprint: str = ""
    attempts: int = 1
    # The host's usage counts fetched in the same session (``transfer.usage_counts``): the
    # raw bytes, unread here, or None and why not.
    usage: bytes | None = field(default=None, repr=False)
    usage_reason: str = ""


class Destination(Protocol):
    name: str

    def deliver(self, filename: str, data: bytes) -> Delivery: ...


class OutboxDestination:
    """A directory a data diode, an approved gateway or removable media carries onward."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.name = f"outbox:{self.directory}"

    def deliver(self, filename: str, data: bytes) -> Delivery:
        try:
            for leftover in self.directory.glob(".*.part"):
                leftover.unlink()  # an interrupted earlier run
            write_atomically(self.directory / filename, data)
        except OSError as error:
            log.warning("%s: cannot write the snapshot: %s", self.name, error.strerror or error)
            return Delivery(self.name, False, f"{type(error).__name__}: {error.strerror or error}")
        return Delivery(self.name, True)


def deliver_all(destinations: Iterable[Destination], filename: str,
                data: bytes) -> list[Delivery]:
    """Every destination tried, whatever happened to the ones before it."""
    results = []
    for destination in destinations:
        try:
            results.append(destination.deliver(filename, data))
        except Exception as error:
            log.exception("%s: delivery failed unexpectedly", destination.name)
            results.append(Delivery(destination.name, False, f"{type(error).__name__}: {error}"))
    return results


def with_retries(attempt: Callable[[], T], retries: int, backoff: float,
                 permanent: tuple[type[BaseException], ...] = ()) -> tuple[T, int]:
    """Call ``attempt()`` up to ``retries + 1`` times, sleeping backoff, 2×backoff, ...

    Errors in ``permanent`` (a changed host key, a refused login) are not retried: trying
    again cannot help and would only repeat the alarm.
    """
    for number in range(1, retries + 2):
        try:
            return attempt(), number
        except permanent:
            raise
        except Exception as error:
            if number > retries:
                raise
            log.warning("attempt %s of %s failed (%s: %s); retrying", number, retries + 1,
                        type(error).__name__, error)
            time.sleep(backoff * 2 ** (number - 1))
    raise AssertionError("unreachable")
