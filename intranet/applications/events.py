"""What an application's page asks of the domains that stand above it.

Publications read applications (a snapshot is built from them), so the applications
package imports none of their code: when an application's page is drawn it announces it,
and ``intranet.publications`` adds 「公開中の表示」 — what the residents' page answers for it
now — from its ``includeme`` (``config.add_subscriber``).
"""

from dataclasses import dataclass
from typing import Any

from intranet.applications.models import Application


@dataclass(frozen=True)
class ApplicationPageShown:
    """The application's page is being drawn: subscribers add their parts to ``page``."""

    request: Any
    application: Application
    page: dict[str, Any]
