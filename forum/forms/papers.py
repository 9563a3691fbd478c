"""A paper's form (issue 18, item 3); the service normalises links and reads deadlines."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from forum.forms.discussions import _strip
from forum.forms.fields import MomentField, at_most, plain_title
from forum.forms.one_time import OneTimeForm
from forum.models.papers import (
    AUTHOR_NAME_MAX_LENGTH,
    PAPER_ABSTRACT_MAX_LENGTH,
    PAPER_ARXIV_MAX_LENGTH,
    PAPER_DOI_MAX_LENGTH,
    PAPER_TITLE_MAX_LENGTH,
    PAPER_URL_MAX_LENGTH,
    PAPER_VENUE_MAX_LENGTH,
    ZONE_MAX_LENGTH,
    PaperStatus,
)
from forum.services.papers import Deadline, PaperDetails

STATUS_LABELS = {
    PaperStatus.IDEA: _l("Idea"),
    PaperStatus.DRAFTING: _l("Drafting"),
    PaperStatus.SUBMITTED: _l("Submitted"),
    PaperStatus.UNDER_REVIEW: _l("Under review"),
    PaperStatus.ACCEPTED: _l("Accepted"),
    PaperStatus.REJECTED: _l("Rejected"),
    PaperStatus.CAMERA_READY: _l("Camera-ready"),
    PaperStatus.PUBLISHED: _l("Published"),
}


def _zone_field(label):
    return StringField(
        label,
        filters=[_strip],
        default="AoE",
        validators=[at_most(ZONE_MAX_LENGTH)],
        description=_l('As the call states it: "AoE" (anywhere on earth) or e.g. "Asia/Tokyo".'),
    )


class EditPaperForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Give the paper a title.")),
            at_most(PAPER_TITLE_MAX_LENGTH),
            plain_title,
        ],
    )
    abstract = TextAreaField(
        _l("Abstract"), filters=[_strip], validators=[at_most(PAPER_ABSTRACT_MAX_LENGTH)]
    )
    venue = StringField(
        _l("Venue"),
        filters=[_strip],
        validators=[at_most(PAPER_VENUE_MAX_LENGTH)],
        description=_l("The conference or journal, e.g. USENIX Security 2027."),
    )
    cfp_url = StringField(
        _l("Call for papers"), filters=[_strip], validators=[at_most(PAPER_URL_MAX_LENGTH)]
    )
    abstract_deadline = MomentField(_l("Abstract deadline"), validators=[Optional()])
    abstract_deadline_zone = _zone_field(_l("Abstract deadline's time zone"))
    full_deadline = MomentField(_l("Full paper deadline"), validators=[Optional()])
    full_deadline_zone = _zone_field(_l("Full paper deadline's time zone"))
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(status.value, label) for status, label in STATUS_LABELS.items()],
        default=PaperStatus.IDEA.value,
        description=_l("Until it is submitted, only its authors and moderators see the paper."),
    )
    url = StringField(_l("Link"), filters=[_strip], validators=[at_most(PAPER_URL_MAX_LENGTH)])
    doi = StringField(_l("DOI"), filters=[_strip], validators=[at_most(PAPER_DOI_MAX_LENGTH)])
    arxiv_id = StringField(
        _l("arXiv identifier"),
        filters=[_strip],
        validators=[at_most(PAPER_ARXIV_MAX_LENGTH + 40)],  # a URL may be pasted
    )
    agenda_items = SelectMultipleField(_l("Agenda items it addresses"), coerce=int, default=[])

    def details(self) -> PaperDetails:
        return PaperDetails(
            title=self.title.data or "",
            abstract=self.abstract.data or "",
            venue=self.venue.data or "",
            cfp_url=self.cfp_url.data or "",
            abstract_deadline=Deadline(
                self.abstract_deadline.data, self.abstract_deadline_zone.data or ""
            ),
            full_deadline=Deadline(self.full_deadline.data, self.full_deadline_zone.data or ""),
            status=PaperStatus(self.status.data),
            url=self.url.data or "",
            doi=self.doi.data or "",
            arxiv_id=self.arxiv_id.data or "",
            agenda_item_ids=list(self.agenda_items.data or []),
        )


class PaperForm(EditPaperForm, OneTimeForm):
    """Starting a paper: sent twice (Back, a second tab), it leads to the paper made first."""


class OutsideAuthorForm(FlaskForm):
    name = StringField(
        _l("Author's name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Give the author's name.")),
            at_most(AUTHOR_NAME_MAX_LENGTH),
        ],
        description=_l("Someone who is not a member of the forum."),
    )
