"""The intranet's database: metadata, and every mapped class imported so Alembic sees it."""

# Import every domain's models so that Base.metadata is complete wherever it is used.
from intranet.applications.models import Application, StatusChange  # noqa: F401
from intranet.audit.models import AuditHead, AuditRecord  # noqa: F401
from intranet.audit.personal import AuditPersonal  # noqa: F401
from intranet.auth.models import LoginThrottle, User, UserSession  # noqa: F401
from intranet.dashboard.models import Tally  # noqa: F401
from intranet.deficiencies.models import DeficiencyKind, DeficiencyKindWording  # noqa: F401
from intranet.disposal.models import Disposal  # noqa: F401
from intranet.imports.models import ImportLayout, ImportRecord  # noqa: F401
from intranet.meta import Base
from intranet.programmes.models import Programme  # noqa: F401
from intranet.publications.models import (  # noqa: F401
    Delivery,
    Publication,
    PublicationRow,
)
from intranet.statuses.models import Status, StatusTransition, StatusWording  # noqa: F401
from intranet.usage.models import UsageCount  # noqa: F401
from intranet.users.models import RoleGrant  # noqa: F401

__all__ = ["Base"]
