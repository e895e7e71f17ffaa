"""What every page shares: templates, static files, security headers, error pages."""

import re
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import notfound_view_config, view_config

from intranet.characters import named_in
from intranet.dates import wareki
from intranet.days import JST
from intranet.fields import FIELD_WORDS, ROUTE_WORDS
from intranet.plausible_dates import UnreadableDate
from intranet.refusals import Refused
from transfer import version

# No inline script, no third-party origin: LGWAN terminals reach nothing but this app.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it browsers send "Origin: null" on every form POST, and the
    # CSRF origin check (enforced under HTTPS, i.e. behind nginx) refuses every login.
    # "same-origin" still tells no other site anything.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


# Japanese message ids for coded values; templates pass them through _().
LABELS = {
    "role_labels": {"staff": "担当職員", "supervisor": "監督者",
                    "security_officer": "セキュリティ担当", "admin": "管理者",
                    "inquiry": "問い合わせ対応"},
    # What an account request asks for (intranet.users.requests).
    "request_labels": {"role": "役割の変更", "create": "アカウントの作成",
                       "reset": "パスワードの再発行"},
    "route_labels": ROUTE_WORDS,
    "source_labels": {"manual": "個別変更", "bulk": "一括変更", "import": "取込",
                      "create": "登録"},
    # An application's fields: the import's column names (intranet.fields).
    "field_labels": FIELD_WORDS,
    # What a publication changes for one entry (intranet.publications.changes).
    "change_kinds": {"added": "新たに掲載", "removed": "掲載を終了", "moved": "状況の変更",
                     "altered": "日付などの変更"},
    "publication_states": {"requested": "承認待ち", "approved": "転送待ち", "rejected": "却下",
                           "published": "公開済", "failed": "転送失敗",
                           "superseded": "後の公開に統合", "spooled": "署名・転送中"},
    # Residents' languages, and the residents' page's answers other than a status
    # (「公開中の表示」, intranet.publications.shown).
    "language_names": {"ja": "日本語", "en": "英語", "ja-easy": "やさしい日本語"},
    "shown_pages": {"not_found": "住民の画面には「申請が見つかりませんでした」と表示されます。",
                    "closed": "住民の画面には、この事業は照会できない（受付期間外・照会終了）と"
                              "表示されます。",
                    "updating": "公開中の情報の有効期限が過ぎたため、住民の画面には「情報を更新しています」"
                                "と表示されます。",
                    "unpublished": "まだ一度も公開されていないため、住民の画面では確認できません。",
                    "unrecorded": "最後の公開は内容を記録する前の版で行われたため、表示できません。"
                                  "次回の公開から表示されます。"},
    "not_found_why": {"new": "この申請は、最後に公開した後に登録されたか、公開の対象外でした。",
                      "birth_date": "この事業は照会に生年月日を使いますが、この申請には生年月日が"
                                    "登録されていません。"},
}


def security_headers_tween_factory(handler, registry):
    def tween(request):
        response = handler(request)
        for name, value in SECURITY_HEADERS.items():
            if name == "Cache-Control" and request.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
        return response

    return tween


def format_date(value: date | None, locale: str = "ja") -> str:
    if value is None:
        return ""
    if locale == "ja":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def local_time(value: datetime | None, locale: str = "ja", seconds: bool = False) -> str:
    """Stored UTC -> shown in Japan time (``seconds``: to the second, where the order of
    steps a minute apart matters: an application's story)."""
    if value is None:
        return ""
    local = value.replace(tzinfo=ZoneInfo("UTC")).astimezone(JST)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    if locale == "ja":
        return f"{local.year}年{local.month}月{local.day}日 {clock}"
    return f"{local:%Y-%m-%d} {clock} JST"


class LocalMoment(str):
    """A stored time as staff read it (local_time's words, so a CSV is unchanged) that also
    carries its Japan wall-clock time: an .xlsx writes that as a date-time cell."""

    moment: datetime | None

    def __new__(cls, text: str, moment: datetime | None = None):
        made = super().__new__(cls, text)
        made.moment = moment
        return made

    def __reduce__(self):
        return LocalMoment, (str(self), self.moment)


def local_moment(value: datetime | None, locale: str = "ja") -> LocalMoment:
    """local_time(value), carrying the time itself (naive, Japan time: Excel has no zones)."""
    if value is None:
        return LocalMoment("")
    local = value.replace(tzinfo=ZoneInfo("UTC")).astimezone(JST).replace(tzinfo=None)
    return LocalMoment(local_time(value, locale), local)


# Ids are BIGINT: PostgreSQL answers a larger number with an error, not with "no such row".
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: "²".isdigit() is True, int("²") fails
BAD_INPUT = "入力内容が正しくありません（${field}）。画面から操作し直してください。"


class BadInput(Refused):
    """A form field or query parameter no screen of ours sends: a 400 page, never a 500."""


def whole_number(text: str | None, field: str, maximum: int = MAX_ID) -> int:
    """``text`` as a whole number 0..maximum, or BadInput naming ``field``."""
    if text is None or not _DIGITS.fullmatch(text) or int(text) > maximum:
        raise BadInput(BAD_INPUT, field=field)
    return int(text)


def matched_id(request, name: str = "id") -> int:
    """The row id in the URL (the route allows only digits; this bounds their size)."""
    return whole_number(request.matchdict[name], name)


def redirect_see_other(request, route, **kw):
    """After a successful POST: 303 so a reload never resubmits the form."""
    return HTTPSeeOther(location=request.route_url(route, **kw))


def discard_changes(request):
    """Roll back whatever this request wrote and carry on reading in a new transaction."""
    request.tm.abort()
    request.tm.begin()


@view_config(context=BadInput, renderer="intranet:templates/bad_request.jinja2")
@view_config(context=UnreadableDate, renderer="intranet:templates/bad_request.jinja2")
def bad_input(refused, request):
    request.response.status = 400
    return {"message": refused.explain(request)}


@notfound_view_config(renderer="intranet:templates/notfound.jinja2")
def notfound(request):
    request.response.status = 404
    return {}


@pass_context
def template_gettext(context, message, **mapping):
    return context["request"].translate(message, **mapping)


@pass_context
def characters_named(context, text: str) -> str:
    """A list of characters as ``intranet.characters.shown`` wrote it, in the reader's words."""
    return named_in(text, context["request"].translate)


def add_renderer_globals(event):
    request = event.get("request")
    if request is not None:
        event["locale"] = request.locale_name
        event["get_csrf_token"] = partial(get_csrf_token, request)


def includeme(config):
    config.add_subscriber(add_renderer_globals, BeforeRender)
    config.add_tween("intranet.web.security_headers_tween_factory")
    config.add_static_view("static", "intranet:static", cache_max_age=3600)

    def add_globals():
        env = config.get_jinja2_environment()
        env.filters["format_date"] = format_date
        env.filters["local_time"] = local_time
        env.filters["wareki"] = wareki
        env.filters["characters_named"] = characters_named
        env.globals["municipality_name"] = config.get_settings()["shinsei.municipality_name"]
        # Which build is serving (after an upgrade, staff and the helpdesk can tell).
        env.globals["version"] = version.current()
        env.globals.update(LABELS)
        # One placeholder syntax everywhere: ${name}, as in Python code (TranslationString).
        env.globals["_"] = template_gettext

    config.action(None, add_globals, order=999)
