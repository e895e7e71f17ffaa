"""The dashboard: counts per status per programme, and the progress chart."""

from markupsafe import Markup
from pyramid.view import view_config
from sqlalchemy import select

from intranet.dashboard import chart, services
from intranet.programmes.models import Programme
from intranet.statuses.services import load_catalogue


@view_config(route_name="dashboard", permission="applications.view",
             renderer="intranet:templates/dashboard.jinja2")
def dashboard(request):
    dbsession = request.dbsession
    programmes = dbsession.execute(select(Programme).order_by(Programme.id)).scalars().all()
    progress = services.cumulative_progress(dbsession)
    labels = {key: request.translate(text) for key, text in
              (("received", "受付"), ("decided", "支給決定"), ("paid", "振込済"))}
    svg = chart.progress_svg(progress, labels, request.translate("累計の進捗（受付・支給決定・振込済）"))
    return {
        "programmes": programmes,
        "counts": services.counts_by_programme(dbsession),
        "catalogue": load_catalogue(dbsession),
        # Built from numbers and escaped labels only.
        "chart": Markup(svg),  # noqa: S704
        "progress": progress,
    }
