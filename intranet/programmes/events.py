"""What a programme announces to the domains that stand above it.

Applications, 不備の種類 and disposals all name a programme, so the programme package imports
none of them: when a programme is made, or its page is shown, it tells them through Pyramid's
events, and each adds its part from its own ``includeme`` (``config.add_subscriber``).
"""

from dataclasses import dataclass
from typing import Any

from intranet.programmes.models import Programme


@dataclass(frozen=True)
class ProgrammeCreated:
    """A programme has just been made (flushed: it has its id), in the request's transaction."""

    request: Any
    programme: Programme


@dataclass(frozen=True)
class ProgrammePageShown:
    """The programme's page is being drawn: each domain adds what it owns to ``lifecycle``
    (the page's lifecycle section), e.g. the disposals, or how many applications the step
    being confirmed (``lifecycle["confirm"]``) acts on."""

    request: Any
    programme: Programme
    lifecycle: dict[str, Any]
