"""The security officer's transfer log: every delivery to the public hosts, filtered, and
its CSV (each download an audit record), beside the audit chain's state."""

from datetime import date, timedelta

from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from intranet.audit import services as audit_services
from intranet.audit.exports import audit_export
from intranet.audit.services import utc_start_of
from intranet.db import streamed_rows
from intranet.exports import csv_lines, csv_response
from intranet.publications.models import Delivery, Publication
from intranet.publications.views import failed_outcomes
from intranet.web import local_time


def _delivery_query(params):
    query = select(Delivery).join(Publication).order_by(Delivery.id.desc())
    for name in ("from", "to"):
        try:
            day = date.fromisoformat(params.get(name, ""))
        except ValueError:
            continue
        if name == "from":
            query = query.where(Delivery.at >= utc_start_of(day))
        else:
            query = query.where(Delivery.at < utc_start_of(day + timedelta(days=1)))
    if params.get("result") in ("delivered", "failed"):
        query = query.where(Delivery.delivered.is_(params["result"] == "delivered"))
    if params.get("destination"):
        query = query.where(Delivery.destination.contains(params["destination"], autoescape=True))
    return query


@view_config(route_name="transfers", permission="transfers.view",
             renderer="intranet:templates/publications/transfers.jinja2")
def transfer_log(request):
    deliveries = request.dbsession.execute(_delivery_query(request.GET).limit(500)).scalars().all()
    verdict, _unreadable = audit_services.screen_verdict(request.dbsession,
                                                         request.registry.settings)
    return {"deliveries": deliveries, "outcomes": failed_outcomes(request, deliveries),
            "verdict": verdict}


@view_config(route_name="transfers_csv", permission="transfers.view")
def transfer_log_csv(request):
    # Read by the streaming session of its own (the request's has ended by the time the
    # rows are written): the deliveries' publications are loaded with them, not lazily
    # from a closed session — which used to abort the download at the first delivery.
    query = _delivery_query(request.GET).options(joinedload(Delivery.publication))
    audit_export(request, "transfers.csv", query)
    header = ["at (JST)", "publication", "sequence", "sha256", "size", "entries", "signing keys",
              "requested by", "approved by", "destination", "host key", "result", "reason",
              "attempts", "kind"]

    def row(d):
        return [local_time(d.at, "en"), d.publication_id, d.publication.sequence,
                d.publication.sha256, d.publication.size, d.publication.entries,
                d.publication.signing_key_ids,
                d.publication.requested_by.username if d.publication.requested_by else "schedule",
                d.publication.approved_by.username if d.publication.approved_by else "",
                d.destination, d.host_key_fingerprint, "delivered" if d.delivered else "failed",
                d.reason, d.attempts, "redelivery" if d.redelivery else "delivery"]

    return csv_response("transfers.csv", csv_lines(header, streamed_rows(request, query, row)))
