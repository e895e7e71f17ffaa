"""The security officer's audit screen: filter, export, and the chain's state."""

from pyramid.view import view_config

from intranet.audit import services
from intranet.audit.models import AuditRecord
from intranet.exports import audit_export, csv_lines, csv_response, streamed_rows
from intranet.web import local_time, whole_number

PAGE_SIZE = 100
CSV_HEADER = ["seq", "at (JST)", "actor", "role", "os_user", "host", "action", "target",
              "details", "prev_hash", "hash"]


@view_config(route_name="audit", permission="audit.view",
             renderer="intranet:templates/audit/list.jinja2")
def audit_list(request):
    audit_filter = services.AuditFilter.from_params(request.GET)
    query = audit_filter.query()
    before = request.GET.get("before", "")
    if before:
        query = query.where(AuditRecord.seq < whole_number(before, "before"))
    records = request.dbsession.execute(
        query.order_by(AuditRecord.seq.desc()).limit(PAGE_SIZE + 1)).scalars().all()
    more = len(records) > PAGE_SIZE
    records = records[:PAGE_SIZE]
    next_url = None
    if more:
        next_url = request.current_route_url(_query={**request.GET, "before": records[-1].seq})
    verdict, checkpoint_error = services.screen_verdict(request.dbsession,
                                                        request.registry.settings)
    return {"records": records, "filter": audit_filter, "verdict": verdict, "next_url": next_url,
            "checkpoint": services.last_checkpoint(request.dbsession),
            "checkpoint_file": request.registry.settings.get("audit.checkpoint_file", ""),
            "checkpoint_error": checkpoint_error}


@view_config(route_name="audit_csv", permission="audit.view")
def audit_csv(request):
    query = services.AuditFilter.from_params(request.GET).query().order_by(AuditRecord.seq)
    audit_export(request, "audit.csv", query)

    def row(r):
        return [r.seq, local_time(r.at, "en"), r.actor, r.actor_role, r.os_user, r.host,
                r.action, r.target, r.details, r.prev_hash, r.hash]

    return csv_response("audit.csv", csv_lines(CSV_HEADER, streamed_rows(request, query, row)))
