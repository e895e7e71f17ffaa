"""The dashboard: counts per status per programme, the progress chart, and the relief
figure (online lookups beside the call centre's opened records)."""

from markupsafe import Markup
from pyramid.view import view_config

from intranet.dashboard import chart, services
from intranet.programmes.models import all_programmes
from intranet.usage.views import relief


@view_config(route_name="dashboard", permission="applications.view",
             renderer="intranet:templates/dashboard.jinja2")
def dashboard(request):
    dbsession = request.dbsession
    programmes = all_programmes(dbsession)
    labels = {key: request.translate(text) for key, text in
              (("received", "受付"), ("decided", "支給決定"), ("paid", "振込済"))}
    progress, charts = {}, {}
    for programme in programmes:
        progress[programme.id] = services.cumulative_progress(dbsession, programme.id)
        title = request.translate("${name}: 累計の進捗（受付・支給決定・振込済）", name=programme.name)
        # Built from numbers and escaped labels only.
        charts[programme.id] = Markup(  # noqa: S704
            chart.progress_svg(progress[programme.id], labels, title, f"chart-{programme.id}"))
    return {
        "programmes": programmes,
        "counts": services.counts_by_programme(dbsession),
        "catalogue": request.catalogue,
        "charts": charts,
        "progress": progress,
        "relief": relief(request),
    }
