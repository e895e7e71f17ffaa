"""A pending request's changed applications: paged on screen, whole as CSV (audited)."""

import transaction
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.audit.exports import audit_export
from intranet.db import get_tm_session, session_factory_of
from intranet.exports import csv_lines, csv_response
from intranet.fields import FIELD_WORDS
from intranet.programmes.models import Programme
from intranet.publications import changes
from intranet.publications.models import Publication
from intranet.web import BAD_INPUT, LABELS, BadInput, local_time, matched_id

PAGE = 100
# Read from the database this many at a time while the CSV streams.
CSV_BATCH = 2_000
CSV_HEADER = (FIELD_WORDS["receipt_number"], "事業", "区分", "前回の公開", "今回", "最後に状況を変更した職員",
              "変更日時")


def _publication(request) -> Publication:
    publication = request.dbsession.get(Publication, matched_id(request))
    if publication is None or not publication.content_digest:
        raise HTTPNotFound()
    return publication


def _page_number(request) -> int:
    text = request.GET.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise BadInput(BAD_INPUT, field="page")
    return int(text)


@view_config(route_name="publication_changes", permission="publications.request",
             renderer="intranet:templates/publications/changes.jinja2")
def change_list(request):
    publication = _publication(request)
    page = _page_number(request)
    total = changes.count_entries(request.dbsession, publication.id)
    return {"publication": publication, "page": page, "total": total,
            "pages": max(1, -(-total // PAGE)),
            "entries": changes.entries(request.dbsession, publication.id,
                                       offset=(page - 1) * PAGE, limit=PAGE),
            "programme_names": _programme_names(request.dbsession),
            "baseline": changes.baseline(request.dbsession)}


@view_config(route_name="publication_changes_csv", permission="publications.request")
def change_list_csv(request):
    publication = _publication(request)
    last = changes.baseline(request.dbsession)
    audit_export(request, f"publication:{publication.id}:changes.csv", changes.difference(
        changes.frozen(last.id if last else None), changes.frozen(publication.id)))
    # Read now, in the request's transaction: the streaming session has no request.
    words = {"kinds": {kind: request.translate(label)
                       for kind, label in LABELS["change_kinds"].items()},
             "statuses": {code: s.staff_label for code, s in request.catalogue.items()},
             "none": request.translate("（掲載なし）"), "disposed": request.translate("（廃棄済み）")}
    return csv_response(f"公開依頼{publication.id}の変更.csv",
                        csv_lines(CSV_HEADER, _csv_rows(request, publication.id, words)))


def _csv_rows(request, publication_id: int, words: dict):
    """Read by a session of its own while the response streams (the request's transaction
    has ended by then), a batch at a time: memory stays flat at a million changes."""
    factory = session_factory_of(request.registry)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(factory, manager)
        names = _programme_names(dbsession)
        for entry in changes.all_entries(dbsession, publication_id, CSV_BATCH):
            yield _csv_row(entry, names, words)


def _programme_names(dbsession) -> dict[str, str]:
    return dict(dbsession.execute(select(Programme.code, Programme.name)).all())


def _csv_row(entry: changes.ChangedEntry, names: dict[str, str], words: dict) -> list:
    def status(code: str | None) -> str:
        if code is None:
            return words["none"]
        return words["statuses"].get(code, code)

    return [words["disposed"] if entry.disposed else entry.receipt,
            names.get(entry.programme_code, entry.programme_code), words["kinds"][entry.kind],
            status(entry.before), status(entry.after), entry.changed_by,
            local_time(entry.changed_at, "ja") if entry.changed_at else ""]
