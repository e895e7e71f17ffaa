"""The disposal record (廃棄記録) as data: the printable page, the ledger file and
``shinsei-intranet disposal reapply`` all read this one shape."""

import json
from datetime import datetime

from intranet.disposal.erase import ERASED_FIELDS
from intranet.programmes import lifecycle

FORMAT = "shinsei-disposal-record/1"


def as_dict(disposal) -> dict:
    programme = disposal.programme

    def user(account):
        return {"username": account.username, "display_name": account.display_name,
                "role": account.role} if account else None

    return {
        "format": FORMAT,
        "disposal_id": disposal.id,
        "state": disposal.state,
        "programme": {"code": programme.code, "name": programme.name,
                      "lookup_closed_on": _iso(lifecycle.japan_date(programme.lookup_closed_at)),
                      "archived_on": _iso(lifecycle.japan_date(programme.archived_at)),
                      "retention_years": programme.retention_years},
        "retention_ends_on": _iso(disposal.retention_ends_on),
        "override": disposal.override,
        "reason": disposal.reason,
        "requested_by": user(disposal.requested_by),
        "requested_at": _iso(disposal.requested_at),
        "decided_by": user(disposal.decided_by),
        "decided_at": _iso(disposal.decided_at),
        "decision_note": disposal.decision_note,
        "applications": disposal.applications,
        "history_entries": disposal.history_entries,
        "audit_values": disposal.audit_values,
        "spool_files": disposal.spool_files,
        "publication_rows": disposal.publication_rows,
        "erased_fields": json.loads(disposal.erased_fields) if disposal.state == "approved"
        else list(ERASED_FIELDS),
        "statistics": json.loads(disposal.statistics),
        "backups_age_out_on": _iso(disposal.backups_age_out_on),
    }


def _iso(value):
    if isinstance(value, datetime):  # stored naive UTC
        return value.isoformat(timespec="seconds") + "Z"
    return value.isoformat() if value is not None else None
