"""Every kind of audit entry in one table: the sentence the public log shows for it, and what of
it is private (decided when the entry is recorded, since the hash then covers it for good).

A sentence is a lazy-gettext template; its placeholders are filled by forum.services.audit_log:
``actor`` (a moderator's name, "The forum" for a scheduled job, "A member" when withheld),
``topic``, ``other`` (the second topic of a merge, split or duplicate), ``post``, ``round``,
``item`` (an agenda item), ``from_area``/``to_area``, ``from_status``/``to_status``, ``until``,
``page`` (a public page) and ``revision``.
A target the reader may not see is shown as "a topic" / "a post", unlinked.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class ActionKind:
    sentence: object  # a lazy-gettext template (flask_babel.LazyString)
    # Whom or what it is about stays out of the public form (the target's id is withheld):
    # "a member was warned", never which member.
    private_target: bool = False
    # Who acted stays out of it even when a moderator acted (a ballot is a member's own act).
    private_actor: bool = False
    # The reason may be shown on the page to readers who may see the target.
    shows_reason: bool = True


ACTION_KINDS: dict[str, ActionKind] = {
    # Posts
    "post.hide": ActionKind(_l("%(actor)s hid %(post)s in %(topic)s.")),
    "post.autohide": ActionKind(
        _l("%(actor)s hid %(post)s in %(topic)s, flagged by several members.")
    ),
    "post.restore": ActionKind(_l("%(actor)s restored %(post)s in %(topic)s.")),
    "post.approve": ActionKind(_l("%(actor)s approved %(post)s in %(topic)s.")),
    "flags.dismiss": ActionKind(_l("%(actor)s dismissed the flags on %(post)s in %(topic)s.")),
    # Members: about a person, so never who
    "member.warn": ActionKind(_l("%(actor)s warned a member."), private_target=True),
    "member.suspend": ActionKind(
        _l("%(actor)s suspended a member until %(until)s."),
        private_target=True,
        shows_reason=False,
    ),
    # Topics
    "topic.pin": ActionKind(_l("%(actor)s pinned %(topic)s.")),
    "topic.unpin": ActionKind(_l("%(actor)s unpinned %(topic)s.")),
    "topic.lock": ActionKind(_l("%(actor)s locked %(topic)s.")),
    "topic.unlock": ActionKind(_l("%(actor)s unlocked %(topic)s.")),
    "topic.feature": ActionKind(_l("%(actor)s featured %(topic)s.")),
    "topic.unfeature": ActionKind(_l("%(actor)s stopped featuring %(topic)s.")),
    "topic.move": ActionKind(_l("%(actor)s moved %(topic)s from %(from_area)s to %(to_area)s.")),
    "topic.duplicate": ActionKind(_l("%(actor)s closed %(topic)s as a duplicate of %(other)s.")),
    "topic.merge": ActionKind(_l("%(actor)s merged %(topic)s into %(other)s.")),
    "topic.split": ActionKind(_l("%(actor)s split posts of %(topic)s into %(other)s.")),
    # Restricted topics (responsible disclosure)
    "topic.restrict": ActionKind(_l("%(actor)s restricted %(topic)s until %(until)s.")),
    "topic.grant_access": ActionKind(_l("%(actor)s let a member into %(topic)s.")),
    "topic.revoke_access": ActionKind(_l("%(actor)s took a member out of %(topic)s.")),
    "topic.embargo_extend": ActionKind(
        _l("%(actor)s moved the embargo on %(topic)s later, to %(until)s.")
    ),
    "topic.embargo_shorten": ActionKind(
        _l("%(actor)s brought the embargo on %(topic)s nearer, to %(until)s.")
    ),
    "topic.embargo_lift": ActionKind(_l("%(actor)s lifted the embargo on %(topic)s.")),
    "topic.embargo_end": ActionKind(_l("The embargo on %(topic)s ended.")),
    "report.convert": ActionKind(_l("%(actor)s turned a private report into %(topic)s.")),
    # The research agenda and voting
    "agenda.status": ActionKind(
        _l("%(actor)s moved the agenda item %(item)s from %(from_status)s to %(to_status)s.")
    ),
    "round.create": ActionKind(_l("%(actor)s set up the voting round %(round)s.")),
    "round.close": ActionKind(
        _l("%(actor)s closed the voting round %(round)s and published its result.")
    ),
    "ballot.change": ActionKind(
        _l("A member cast or changed their ballot in %(round)s."), private_actor=True
    ),
    # Settings
    "applications.window": ActionKind(
        _l("%(actor)s changed the dates when applications open and close.")
    ),
    # Public pages (issue 16)
    "page.edit": ActionKind(_l("%(actor)s edited the page %(page)s (revision %(revision)s).")),
    # Guidelines (issue 18): the document is not named (a draft is not public)
    "guideline.state": ActionKind(_l("%(actor)s moved a guideline to a new state.")),
    "guideline.release": ActionKind(_l("%(actor)s published a release of a guideline.")),
    "guideline.suggestion_accept": ActionKind(
        _l("%(actor)s accepted a suggested edit to a guideline.")
    ),
    "guideline.suggestion_decline": ActionKind(
        _l("%(actor)s declined a suggested edit to a guideline."), shows_reason=False
    ),
    # Papers (issue 18): a lead author's decisions about their paper
    "paper.submitted": ActionKind(_l("%(actor)s marked a paper as submitted.")),
    "paper.accepted": ActionKind(_l("%(actor)s marked a paper as accepted.")),
    "paper.published": ActionKind(_l("%(actor)s marked a paper as published.")),
    "paper.coauthor_accepted": ActionKind(_l("%(actor)s accepted a co-author on a paper.")),
    # Workshops (issue 18): which member moved up stays private (the registration id)
    "workshop.create": ActionKind(_l("%(actor)s created a workshop.")),
    "workshop.cancel": ActionKind(_l("%(actor)s cancelled a workshop.")),
    "workshop.outcomes": ActionKind(
        _l("%(actor)s wrote the notes and outcomes of a workshop session.")
    ),
    "workshop.promote": ActionKind(
        _l("%(actor)s gave a freed workshop seat to the first member on its waitlist.")
    ),
}

# A kind this table does not know (an older or newer entry): a sentence that names nothing.
UNKNOWN_KIND = ActionKind(
    _l("%(actor)s recorded a moderation action (%(action)s)."),
    private_target=True,
    shows_reason=False,
)


def kind_of(action: str) -> ActionKind:
    return ACTION_KINDS.get(action, UNKNOWN_KIND)


STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "on_ballot": _l("On ballot"),
    "prioritised": _l("Prioritised"),
    "in_progress": _l("In progress"),
    "addressed": _l("Addressed"),
    "declined": _l("Declined"),
}
