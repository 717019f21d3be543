"""A review meeting's two PDFs, rendered in a render worker like the six forms: the vote's
result (members, attendance, who did not vote on whom, each case's tally and result, the
signature lines) and the draw's member list."""

from services.documents.render import html
from services.documents.render.worker import Pdf, _pdf, _Task, _write
from shared.contracts.cases.meetings import CHOICE_LABELS, MEETING_DOCUMENTS
from shared.contracts.documents.meetings import MeetingSheet

TEMPLATES = {"meeting_result": "meeting_result.html", "meeting_members": "meeting_members.html"}


def meeting_html(kind: str, sheet: MeetingSheet) -> str:
    return html.ENV.get_template(TEMPLATES[kind]).render(
        doc=sheet, title=MEETING_DOCUMENTS[kind], choices=CHOICE_LABELS
    )


def render_meeting(kind: str, sheet: MeetingSheet, time_limit: float | None = None) -> Pdf:
    with _Task(time_limit):
        content, pages = _write(meeting_html(kind, sheet))
        return _pdf(content, pages)
