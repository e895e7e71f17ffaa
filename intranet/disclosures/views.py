"""Disclosure screens: a printable page and a CSV file for the resident; each is audited."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from intranet.applications.models import Application
from intranet.audit import writer
from intranet.disclosures import services
from intranet.exports import csv_lines, csv_response
from intranet.oversight.search import vocabulary
from intranet.programmes import lifecycle
from intranet.web import matched_id


def _produce(request, form: str):
    application = request.dbsession.get(Application, matched_id(request))
    if application is None:
        raise HTTPNotFound()
    disclosure = services.collect(request.dbsession, application)
    # Who produced what for whom: the record names the application by id only.
    writer.append(request.dbsession, request.actor, "disclosure.produce",
                  f"application:{application.id}", format=form,
                  history=len(disclosure.history), audit_records=len(disclosure.audit),
                  publications=len(disclosure.publications))
    return disclosure


@view_config(route_name="disclosure", permission="disclosures.produce",
             renderer="intranet:templates/disclosures/page.jinja2")
def disclosure_page(request):
    disclosure = _produce(request, "html")
    return {"d": disclosure, "fields": services.FIELDS, "produced_at": writer.utcnow(),
            "audit": services.described_audit(disclosure, vocabulary(request)),
            "disposed": lifecycle.state(disclosure.application.programme) == lifecycle.DISPOSED}


@view_config(route_name="disclosure_csv", permission="disclosures.produce")
def disclosure_csv(request):
    disclosure = _produce(request, "csv")
    rows = list(services.rows(disclosure, vocabulary(request)))
    return csv_response(f"disclosure-{disclosure.application.id}.csv",
                        csv_lines([request.translate(h) for h in services.CSV_HEADER], rows))
