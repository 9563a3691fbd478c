"""The public pages (issue 16): what each says, until an admin edits it and after, and saving
an edit (rendered through forum/markup.py, audit-logged with its revision number).

A page no admin has saved has no row and shows its default text below (English: admins write
the forum's own). Saving makes the row, and each later save counts one more revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.markup import plain_summary, render_markdown
from forum.models import PublicPage, User
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import audit

EDIT_ACTION = "page.edit"  # the audit log's kind (forum/services/audit_kinds.py)
PAGE_MAX_LENGTH = 30_000  # characters of Markdown: a long privacy notice is about 5,000 words


@dataclass(frozen=True)
class PageKind:
    slug: str  # also its address: /<slug>
    title: object  # a lazy translation
    default: str  # Markdown shown until an admin saves the page


PAGES: dict[str, PageKind] = {
    kind.slug: kind
    for kind in (
        PageKind(
            "about",
            _l("About"),
            """\
This forum is run by and for a member-led research community working on the **privacy,
safety and security of large language models**: researchers from universities, independent
labs and civil society who ask, share, discuss and decide what to research next.

## Who runs it

The members do. A small team of **admins** keeps the forum running (accounts, settings and
these pages), and **moderators**, chosen from among the members, look after the discussions:
they review applications to join, act on flagged posts and keep the research agenda in order.
Every moderation action is recorded in the public [moderation log](/moderation/log), and the
[transparency report](/transparency) counts them.

## The facilitator

A **facilitator** helps the community reach its decisions: they prepare the research agenda
and the voting rounds, make sure every proposal gets a fair hearing, and summarise
discussions so that members who missed them can catch up. The facilitator does not decide
for the community: members vote, and the results are published for anyone to check.

## Joining

Membership is open to people who research or work on these questions; applications are
reviewed by members from institutions other than the applicant's.
""",
        ),
        PageKind(
            "charter",
            _l("Charter: how decisions are made"),
            """\
## Purpose

The community exists to find out together what most needs researching on the privacy, safety
and security of large language models, and to do that research in the open where it is safe.

## How decisions are made

1. **Anyone may propose.** Any member may add an open question to the research agenda, with
   its rationale and evidence.
2. **Everything is discussed first.** Each agenda item has its own discussion, open to all
   members, before it goes to a vote.
3. **Members vote in rounds.** The facilitator and moderators set up voting rounds with a
   published method, opening and closing time; every member who may vote gets one ballot,
   which they may change until the round closes.
4. **Results are public and checkable.** When a round closes its result is frozen and
   published, with the anonymised ballots, so anyone can recount it.
5. **No institution decides alone.** Caps on the share of a result one institution may give,
   and reviewers from other institutions for applications, keep any one group from
   dominating.

## Changing this charter

Changes to this charter are proposed and discussed like any agenda item, and adopted by a
voting round. Every edit of this page is recorded in the public moderation log.
""",
        ),
        PageKind(
            "code-of-conduct",
            _l("Code of conduct"),
            """\
We want a forum where researchers of every background, discipline and language can disagree
productively.

## Expected

- Be respectful and assume good faith; criticise ideas, not people.
- Cite your sources, and say what you do not know.
- Write so that people outside your field can follow.

## Not accepted

- Harassment, personal attacks, discrimination or intimidation of anyone.
- Sharing other people's personal data, or private messages, without consent.
- Posting working exploits, jailbreaks or other hazardous findings in the open: report them
  privately to the moderators, or post them as a restricted topic, so that they can be
  disclosed responsibly.
- Spam, advertising and deliberate misinformation.

## What happens

Members can flag posts; moderators may hide posts, warn members or suspend accounts, and every
such action appears in the public moderation log. If you see something that worries you,
flag it or report it privately to the moderators.
""",
        ),
        PageKind(
            "privacy",
            _l("Privacy notice"),
            """\
## What we keep

- **Your account**: your name, email address, institution, the profile details you choose to
  give, and a hash of your password (never the password itself).
- **What you write**: topics, posts and their earlier versions, votes, flags and ballots.
- **Applications to join**: what applicants write, and the reviewers' scores and notes.
- **Technical records**: the address a request came from, kept only as long as rate limits
  need it.

## Who sees it

Your profile is visible to members only, unless you choose to show it to visitors. Ballots are
secret: published results and ballot files carry no names. The moderation log names
moderators and admins, never the members an action was about.

## Email

We email you about your account and, as you choose in your settings, notifications and
digests. Every email has a link to stop it.

## Your rights

You may correct your profile at any time, and ask the admins for a copy of your data or for
your account to be deleted.
""",
        ),
    )
}


@dataclass(frozen=True)
class ShownPage:
    """A page as readers see it."""

    kind: PageKind
    body: str  # Markdown
    body_html: str  # safe to show as it is (forum/markup.py made it)
    revision: int  # 0: the default text, never saved
    updated_at: datetime | None

    @property
    def slug(self) -> str:
        return self.kind.slug

    @property
    def title(self) -> str:
        return str(self.kind.title)

    @property
    def description(self) -> str:
        """The page's first words, for search engines and link previews."""
        return plain_summary(self.body_html)


@lru_cache(maxsize=len(PAGES))
def _default_html(slug: str) -> str:
    return render_markdown(PAGES[slug].default)


def get_page(slug: str) -> ShownPage | None:
    """The page at /<slug> (None for a name that is not a page): one statement."""
    kind = PAGES.get(slug)
    if kind is None:
        return None
    row = db.session.scalar(select(PublicPage).where(PublicPage.slug == slug))
    if row is None:
        return ShownPage(kind, kind.default, _default_html(slug), 0, None)
    return ShownPage(kind, row.body, row.body_html, row.revision, row.updated_at)


def last_edits() -> dict[str, datetime]:
    """When each saved page was last edited (slug -> moment): one statement."""
    return dict(db.session.execute(select(PublicPage.slug, PublicPage.updated_at)).all())


def edit_page(actor: User, slug: str, *, body: str, now: datetime | None = None) -> ShownPage:
    """Save a new text for a page (``slug`` one of PAGES); an unchanged text saves nothing.
    Admins only; the edit and its revision number go into the audit log with it."""
    require(actor, "edit_public_pages")
    kind = PAGES[slug]
    now = now or utcnow()
    try:
        changed = _save(actor, kind, body, now)
    except IntegrityError:  # another admin saved this page's first version at the same time
        db.session.rollback()
        changed = _save(actor, kind, body, now)
    if changed:
        db.session.commit()
    return get_page(slug)


def _save(actor: User, kind: PageKind, body: str, now: datetime) -> bool:
    row = db.session.scalar(
        select(PublicPage).where(PublicPage.slug == kind.slug).with_for_update()
    )
    if row is None:
        if body == kind.default:
            return False
        row = PublicPage(slug=kind.slug, revision=0)
        db.session.add(row)
    elif row.body == body:
        return False
    row.body = body
    row.body_html = render_markdown(body)
    row.revision += 1
    row.updated_at = now
    row.updated_by_id = actor.id
    db.session.flush()  # the first save's row gets its id (and meets the unique slug) here
    audit.record(
        actor,
        EDIT_ACTION,
        target_type="public_page",
        target_id=row.id,
        public={"page": kind.slug, "revision": row.revision},
        now=now,
    )
    return True
