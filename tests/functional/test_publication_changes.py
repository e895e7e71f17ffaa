"""The approver approves a change, not a digest (issue 27 item 1).

After each kind of change — a single change, a bulk change, an import, closing a
programme's lookup, and disposal — the pending request's page shows exactly the difference
between the last delivered publication's frozen rows and the request's frozen rows: per
programme and status on the approval itself, entry by entry on the changed-application
list and its CSV. The preview before the request, the request and the approval's audit
record say the same counts, because they are read the one way (publications.changes)."""

import csv
import io
import json
import re
from collections import Counter

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from intranet.publications import changes
from intranet.publications.job import publish
from intranet.publications.models import Publication, PublicationRow
from intranet.statuses.models import Status
from intranet.web import LABELS
from lab.import_files import PEOPLE, encoded, status_file
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme
from tests.functional.test_applications import change
from tests.functional.test_bulk import confirm as bulk_confirm
from tests.functional.test_bulk import preview as bulk_preview
from tests.functional.test_disposal import (
    OVERRIDE,
    as_user,
    latest_disposal,
    request_disposal,
    second_supervisor,  # noqa: F401  (the fixture)
    spool,  # noqa: F401  (the fixture)
    step,
)
from tests.functional.test_disposal import decide as decide_disposal
from tests.functional.test_imports import confirm as import_confirm
from tests.functional.test_imports import upload
from tests.integration.test_publish import keys, plan  # noqa: F401  (keys: the fixture)
from transfer.transports import OutboxDestination

KINDS = LABELS["change_kinds"]


def frozen(dbsession, publication_id):
    return {(r.programme_code, r.receipt): tuple(r) for r in dbsession.execute(
        select(PublicationRow).where(PublicationRow.publication_id == publication_id)
        .with_only_columns(*(getattr(PublicationRow, c) for c in changes.COLUMNS)))}


def expected(dbsession, baseline_id, request_id):
    """The difference of the two publications' frozen rows, worked out here by hand:
    {(programme, receipt): (kind, status before, status after)}."""
    before, after = frozen(dbsession, baseline_id), frozen(dbsession, request_id)
    found = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        kind = ("added" if old is None else "removed" if new is None
                else "moved" if old[3] != new[3] else "altered")
        found[key] = (kind, old[3] if old else None, new[3] if new else None)
    return found


def labels(dbsession):
    return dict(dbsession.execute(select(Status.code, Status.staff_label)).all())


def shown_summary(page_text, publication_id):
    """(kind label, status text, count) per programme, as the approval shows them."""
    table = page_text.split(f'id="pending-{publication_id}-by-programme"')[1].split("</table>")[0]
    shown = Counter()
    for body in table.split("<tbody>")[1:]:
        programme = re.search(r'rowspan="\d+">([^<]+)', body).group(1)
        for kind, status, count in re.findall(
                r'<td>([^<]+)</td><td>([^<]+)</td><td class="num">([\d,]+)</td>', body):
            if kind == KINDS["removed"] and "件" in status:   # a programme taken off whole
                parts = [re.fullmatch(r"(.+) ([\d,]+)件", part) for part in status.split("、")]
                assert sum(int(m.group(2).replace(",", "")) for m in parts) == int(
                    count.replace(",", ""))
                for m in parts:
                    shown[(programme, kind, m.group(1))] += int(m.group(2).replace(",", ""))
                continue
            shown[(programme, kind, status)] += int(count.replace(",", ""))
    return shown


def summary_of(diff, names, status_labels):
    want = Counter()
    for (code, _receipt), (kind, old, new) in diff.items():
        text = (f"{status_labels[old]} → {status_labels[new]}" if kind == "moved"
                else status_labels[old if kind == "removed" else new])
        want[(names[code], KINDS[kind], text)] += 1
    return want


def csv_entries(app, publication_id):
    body = app.get(f"/publications/{publication_id}/changes.csv").body
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["受付番号", "事業", "区分", "前回の公開", "今回", "最後に状況を変更した職員",
                       "変更日時"]
    return rows[1:]


@pytest.fixture
def city(session_factory, accounts):
    ours = make_programme(session_factory)
    make_applications(session_factory, ours, 6)
    closing = make_programme(session_factory, "bukka-2024")
    make_applications(session_factory, closing, 3, start=100)
    return ours, closing


def previewed(session_factory) -> dict[str, int]:
    """The preview's totals, in a transaction of its own that ends as a page's does: on
    PostgreSQL the preview is kept under a lock the staff's next page would wait for."""
    with session_factory() as dbsession:
        totals = changes.of_preview(dbsession).totals()
        dbsession.commit()
    return totals


def test_the_approval_shows_the_difference_of_frozen_rows_after_each_kind_of_change(
        testapp, session_factory, dbsession, city, keys, tmp_path, second_supervisor,  # noqa: F811
        spool):  # noqa: F811
    ours, closing = city
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    names = {"tokubetsu-2020": "tokubetsu-2020 の給付金", "bukka-2024": "bukka-2024 の給付金"}

    def delivered():
        _ids, deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
        assert deliveries and all(d.delivered for d in deliveries)

    def request_and_check(expect_ended=None):
        """Preview, request, approval page, list and CSV, audit record: one difference."""
        staff = as_user(testapp, "staff")
        preview = previewed(session_factory)
        page = staff.get("/publications")
        assert staff.post("/publications", {"csrf_token": csrf_token(page),
                                            "note": "確認"}).status_int == 303
        dbsession.expire_all()
        request = dbsession.execute(select(Publication).order_by(
            Publication.id.desc())).scalars().first()
        baseline = changes.baseline(dbsession)
        want = expected(dbsession, baseline.id if baseline else None, request.id)
        status_labels = labels(dbsession)
        totals = Counter(kind for kind, _old, _new in want.values())
        assert preview == {kind: totals[kind] for kind in changes.KINDS}

        approver = as_user(testapp, "supervisor")
        page = approver.get("/publications")
        # The approver's page opens on the pending request, before the new-request preview.
        assert page.text.index(f"承認待ちの公開依頼 No.{request.id}") < page.text.index(
            "新しく公開を依頼する")
        for kind in changes.KINDS:
            assert (f"{KINDS[kind]} <strong>{totals[kind]:,}</strong>"
                    in page.text.split("preview-heading")[0])
        assert shown_summary(page.text, request.id) == summary_of(want, names, status_labels)
        if expect_ended:
            assert expect_ended in page.text.split("preview-heading")[0]

        listed = approver.get(f"/publications/{request.id}/changes").text
        rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", listed)
        assert Counter(kind for _r, _p, kind in rows) == Counter(
            KINDS[k] for k, _o, _n in want.values())
        in_csv = csv_entries(approver, request.id)
        assert len(in_csv) == len(want)
        for (code, receipt), (kind, _old, _new) in want.items():
            shown = "（廃棄済み）" if receipt.startswith("-") else receipt
            assert [shown, names[code], KINDS[kind]] in [row[:3] for row in in_csv]

        page = approver.get("/publications")
        digest = re.search(r'name="digest" value="([0-9a-f]+)"', page.text).group(1)
        assert approver.post(f"/publications/{request.id}/decision", {
            "csrf_token": csrf_token(page), "decision": "approve",
            "digest": digest}).status_int == 303
        dbsession.expire_all()
        approval = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "publication.approve",
            AuditRecord.target == f"publication:{request.id}")).scalar_one()
        assert json.loads(approval.details)["changes"] == preview
        export = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "export").order_by(AuditRecord.seq.desc())).scalars().first()
        assert export.target == f"publication:{request.id}:changes.csv"
        assert json.loads(export.details)["rows"] == len(want)
        return want

    # The first publication: everything is new.
    assert len(request_and_check()) == 9
    delivered()

    # A single change.
    app = as_user(testapp, "staff")
    one = dbsession.execute(select(Application.id).where(
        Application.receipt_number_normalised == "00000001")).scalar_one()
    assert change(app, one, status="reviewing", reason="書類確認").status_int in (200, 303)
    want = request_and_check()
    assert want == {("tokubetsu-2020", "00000001"): ("moved", "received", "reviewing")}
    delivered()

    # A bulk change.
    app = as_user(testapp, "supervisor")
    assert bulk_confirm(app, bulk_preview(app, ours, "00000002\n00000003\n00000004")
                        ).status_int in (200, 303)
    assert Counter(k for k, _o, _n in request_and_check().values()) == {"moved": 3}
    delivered()

    # An import: new applications; a status list moving one.
    app = as_user(testapp, "staff")
    import_confirm(app, upload(app, ours, encoded(PEOPLE[:2])))
    app = as_user(testapp, "supervisor")
    import_confirm(app, upload(app, ours, status_file(
        [["00000005", "審査中", ""]]), "status.csv"))
    want = request_and_check()
    assert Counter(k for k, _o, _n in want.values()) == {"added": 2, "moved": 1}
    delivered()

    # Closing a programme's lookup: its entries come off the page, the programme is named.
    app = as_user(testapp, "supervisor")
    assert step(app, closing, "close_lookup").status_int == 303
    want = request_and_check(expect_ended="照会を終了した事業のため")
    assert Counter(k for k, _o, _n in want.values()) == {"removed": 3}
    # Approved but not yet delivered: a second request must still compare with the last
    # delivered one. Then the programme is archived and disposed before anything is sent.
    assert step(app, closing, "archive").status_int == 303
    assert request_disposal(app, closing, override=True, reason=OVERRIDE).status_int == 303
    assert decide_disposal(as_user(testapp, second_supervisor),
                           latest_disposal(dbsession).id).status_int == 303
    want = request_and_check(expect_ended="廃棄した事業のため")
    assert Counter(k for k, _o, _n in want.values()) == {"removed": 3}
    assert all(receipt.startswith("-") for _code, receipt in want)   # no receipt kept
    delivered()

    # After delivery the disposed programme is not counted as new, nor anything else.
    assert previewed(session_factory) == dict.fromkeys(changes.KINDS, 0)
    page = as_user(testapp, "staff").get("/publications")
    assert "前回の公開から変更はありません。" in page.text
