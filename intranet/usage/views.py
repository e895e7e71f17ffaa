"""The relief figure on the dashboard, and the same figure as a CSV for the council report."""

from datetime import datetime

from markupsafe import Markup
from pyramid.view import view_config

from intranet import exports
from intranet.audit import writer
from intranet.days import JST
from intranet.usage import chart
from intranet.usage.figures import relief_days

# The CSV's header, in the words of a report to the council (message ids: Japanese).
CSV_HEADER = ("日付", "オンライン照会件数（全公開ホスト）", "回数制限で受け付けなかった照会",
              "問い合わせ対応で申請を開いた件数", "オンラインで済んだ割合（%）")


def relief(request) -> dict:
    """What the dashboard shows: the days, the chart, the labels of its series."""
    days = relief_days(request.dbsession, datetime.now(JST).date())
    labels = {"lookups": request.translate("オンライン照会件数"),
              "views": request.translate("問い合わせ対応で開いた件数")}
    total_lookups, total_views = sum(d.lookups for d in days), sum(d.views for d in days)
    title = request.translate("オンライン照会と問い合わせ対応の件数（日ごと、過去${days}日）",
                              days=len(days))
    desc = request.translate(
        "${first}から${last}まで: オンライン照会 ${lookups}件、問い合わせ対応で申請を開いた件数 "
        "${views}件。日ごとの数値は下の表にあります。",
        first=days[0].day.isoformat(), last=days[-1].day.isoformat(),
        lookups=f"{total_lookups:,}", views=f"{total_views:,}")
    # Built from numbers and escaped labels only.
    svg = Markup(chart.relief_svg(days, labels, title, desc))  # noqa: S704
    return {"days": days, "chart": svg, "total_lookups": total_lookups,
            "total_views": total_views}


@view_config(route_name="usage_csv", permission="applications.view", request_method="GET")
def relief_csv(request):
    days = relief_days(request.dbsession, datetime.now(JST).date())
    writer.append(request.dbsession, request.actor, "export", "usage", rows=len(days),
                  encoding="utf-8")
    header = [request.translate(text) for text in CSV_HEADER]
    rows = ([d.day.isoformat(), d.lookups, d.limited, d.views,
             "" if d.online_share is None else f"{100 * d.online_share:.1f}"] for d in days)
    filename = f"online-lookups-{days[-1].day:%Y%m%d}.csv"
    return exports.csv_response(filename, exports.csv_lines(header, rows))
