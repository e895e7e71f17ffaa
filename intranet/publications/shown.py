"""What the residents' page shows for one application now: 「公開中の表示」 on its page.

Read from the last delivered publication — its frozen header (the programmes and the
statuses with their wording, as the snapshot carried them) and its frozen row for this
application, which the recorder keeps as the "before" of every later publication
(``intranet.publications.changes``: ``baseline`` and ``frozen``, the rows the approver's
comparison reads too) — through the answer code the public page uses
(``transfer.answer``), so that the call centre reads what the resident reads — the status,
its wording, its dates and, for a status that needs the resident's action, the action
details (what is missing, where to send it, by when). Beside it,
the answer the next publication would give from today's data: when the two differ, the
newest change (of the application, its action details, its status's wording or its
programme, with its 不備の種類 and 返送先) is not published yet — 「次回の公開で反映されます」.

The public page answers in one of a few ways, and so does this: ``found`` (the answer),
``not_found``, ``closed`` (the programme cannot be looked up today), ``updating`` (the
snapshot has expired: residents are told the information is being updated), and here
also ``unpublished`` (nothing has been delivered yet) and ``unrecorded`` (the last delivery
was made before publications kept what they said: nothing to show until the next one).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from intranet.applications.events import ApplicationPageShown
from intranet.audit.writer import utcnow
from intranet.days import JST
from intranet.publications import changes, content
from intranet.publications.models import Publication, PublicationRow
from transfer import answer as answers
from transfer.build import status_fields
from transfer.ruby import html_for
from transfer.snapshot import RESIDENT_LANGUAGES


@dataclass(frozen=True)
class Shown:
    """One answer of the residents' page for one application."""

    page: str   # found | not_found | closed | updating | unpublished | unrecorded
    answer: answers.Answer = answers.NOT_FOUND
    programme: dict[str, Any] | None = None
    why: str = ""                    # not found: "new" (not in it) or "birth_date" (none known)

    def same_for_residents(self, other: "Shown") -> bool:
        return (self.page, self.answer, self.programme) == (other.page, other.answer,
                                                            other.programme)

    def wording(self) -> dict[str, dict[str, str]]:
        """Per language, the answer's wording as the residents' page writes it (HTML)."""
        return {lang: {part: html_for(text, lang) for part, text in
                       self.answer.wording(lang).items()} for lang in RESIDENT_LANGUAGES}

    def action(self) -> dict[str, dict[str, Any]]:
        """Per language, the action details' texts as the residents' page writes them
        (HTML): what is missing, where to send it, what to enclose. Empty without any."""
        action = self.answer.action
        if action is None:
            return {}
        return {lang: {"missing": [html_for(text, lang) for text in action.missing_in(lang)],
                       "return_to": html_for(action.return_to_in(lang), lang),
                       "enclose": html_for(action.enclose_in(lang), lang)}
                for lang in RESIDENT_LANGUAGES}


@dataclass(frozen=True)
class ResidentsView:
    """What residents are shown now, from which publication, and what comes next."""

    now: Shown
    upcoming: Shown
    publication: Publication | None
    today: date   # the day in Japan: whether a deadline has passed, as the public page says

    @property
    def overdue(self) -> bool:
        """The 返送期限 residents are shown has passed (their page says whom to call)."""
        action = self.now.answer.action
        return bool(action and action.overdue(self.today))

    @property
    def pending(self) -> bool:
        """The newest change is not published yet: the next publication shows otherwise."""
        return self.now.page != "unrecorded" and not self.now.same_for_residents(self.upcoming)

    @property
    def undelivered(self) -> list[str]:
        """Destinations the publication did not reach: they still show an older one."""
        if self.publication is None:
            return []
        return [d.destination for d in self.publication.deliveries if not d.delivered]


def residents_view(dbsession, application, now: datetime, today: date) -> ResidentsView:
    """``now``: naive UTC, as stored; ``today``: the day in Japan (the public page's)."""
    publication = changes.baseline(dbsession)
    return ResidentsView(published(dbsession, publication, application, now, today),
                         upcoming(dbsession, application, today), publication, today)


def published(dbsession, publication: Publication | None, application, now: datetime,
              today: date) -> Shown:
    if publication is None:
        return Shown("unpublished")
    if publication.expires_at is not None and publication.expires_at <= now:
        return Shown("updating")
    # Delivered before requests froze their content, or before the delivered one's rows
    # were kept (an upgraded site): nothing exact to show until the next delivery.
    if not publication.frozen_header or not changes.baseline_rows_kept(dbsession, publication):
        return Shown("unrecorded")
    header = content.wording_of(publication)
    programme = answers.programme_named(header, application.programme.code)
    if programme is None:   # the programme came after the publication
        return Shown("not_found", why="new")
    if not answers.is_open(programme, today):
        return Shown("closed", programme=programme)
    row = _frozen_row(dbsession, publication, programme["code"],
                      application.receipt_number_normalised)
    if row is not None and programme["needs_birth_date"] and row.birth_date is None \
            and not changes.erased(row.receipt):
        # Frozen but left out of the snapshot (transfer.build): no birth date to look it up
        # by. Disposal empties the birth date of a kept row after the snapshot was made.
        return Shown("not_found", programme=programme, why="birth_date")
    status = row and answers.status_named(header, row.status_code)
    if not status:   # registered since, or not in it for another reason
        return Shown("not_found", programme=programme, why="new")
    return Shown("found", answers.answer(
        status, row.scheduled_payment_on, row.paid_on, programme=programme,
        kinds=row.deficiency_kinds or 0, documents_sent_on=row.documents_sent_on,
        return_by=row.return_by), programme)


def _frozen_row(dbsession, publication: Publication, programme_code: str, receipt: str):
    """The publication's frozen row for one application, keyed as the comparison keys it
    (programme, normalised receipt number; a disposed application's is its erased key,
    which disposal also gives the kept row), or None."""
    return dbsession.execute(changes.frozen(publication.id).where(
        PublicationRow.programme_code == programme_code,
        PublicationRow.receipt == receipt)).first()


def upcoming(dbsession, application, today: date) -> Shown:
    """What the next publication would show, from today's data (what a request freezes:
    ``content.freeze``; the action details go only with a status that needs them, which
    ``transfer.answer`` sees to for both)."""
    programme = content.programme_header(dbsession, application.programme)
    if not answers.is_open(programme, today):
        return Shown("closed", programme=programme)
    if programme["needs_birth_date"] and application.birth_date is None:
        return Shown("not_found", programme=programme, why="birth_date")
    return Shown("found", answers.answer(
        status_fields(application.status), application.scheduled_payment_on,
        application.paid_on, programme=programme, kinds=application.deficiency_kinds or 0,
        documents_sent_on=application.documents_sent_on, return_by=application.return_by),
        programme)


def add_to_page(shown: ApplicationPageShown) -> None:
    """「公開中の表示」 on the application's page: what residents read now (Japan's today)."""
    shown.page["residents"] = residents_view(shown.request.dbsession, shown.application,
                                             utcnow(), datetime.now(JST).date())
