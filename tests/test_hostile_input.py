"""No 500 from input (issue 13): whatever anyone types into any form field, query or address.

Ids past the database's integer range are missing (404); NUL and other control characters are
refused with a page that says why (400); numbers are read in the digits 0-9 only, so ², ① and ٣
are a message. A hypothesis walk sends hostile values to every route of the app, for a visitor,
a member, a moderator and an admin.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from wtforms.fields.core import UnboundField

import forum.forms
from forum.extensions import db
from forum.forms.fields import MAX_ID, whole_number
from forum.models import (
    Application,
    Ballot,
    GuidelineState,
    Notification,
    PaperStatus,
    Post,
    Tag,
    Topic,
    VotingRound,
)
from forum.services import bookmarks, guidelines, paper_authors, papers, tags
from forum.services.unsubscribe import unsubscribe_token
from tests.factories import (
    PASSWORD,
    make_agenda_item,
    make_application,
    make_post,
    make_round,
    make_topic,
)
from tests.helpers import page_without_tokens


class Repeated(str):
    """A very long value with a short repr: Hypothesis prints every example it runs."""

    def __repr__(self) -> str:
        return f"{self[:1]!r} * {len(self)}"


HUGE_IDS = [MAX_ID + 1, 2**31, 2**63, 10**20]
NON_ASCII_DIGITS = ["²", "①", "٣", "٣٠", "１", "߃", "5²"]
CONTROL = ["\x00", "a\x00b", "\x01", "\x07", "\x1b[31m", "\x1f", "\x0b", "\x0c"]
HOSTILE = [
    *CONTROL,
    *NON_ASCII_DIGITS,
    *(str(n) for n in HUGE_IDS),
    "-1",
    "0",
    "1",
    "",
    " ",
    "\t",
    "\r\n",
    Repeated("x" * 50_000),
    Repeated("9" * 50_000),
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e",
    "\ufeff",
    "🙂",
]
hostile_text = st.one_of(
    st.sampled_from([*NON_ASCII_DIGITS, *CONTROL, *(str(n) for n in HUGE_IDS)]),  # the known ones
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def _form_field_names() -> set[str]:
    """Every field name of every form the app defines (read from the form classes)."""
    names = set()
    for module_info in pkgutil.iter_modules(forum.forms.__path__):
        module = importlib.import_module(f"forum.forms.{module_info.name}")
        for _name, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, FlaskForm):
                names |= {
                    name
                    for name in dir(form)
                    if isinstance(getattr(form, name, None), UnboundField)
                }
    return names


# Names the views read from request.form or request.args themselves, beside the forms' fields.
VIEW_FORM_NAMES = {
    "next",
    "locale",
    "reason",
    "note",
    "level",
    "up",
    "topic_id",
    "post_ids",
    "preview",
    "handle",
    "user_id",
    "category",
    "until",
}
QUERY_NAMES = sorted(
    {
        "next",
        "area",
        "page",
        "sort",
        "status",
        "period",
        "tag",
        "title",
        "body",
        "q",
        "to",
        "quote",
        "state",
        "institution",
        "discipline",
        "topic_id",
        "slug",
        "_external",
        "_anchor",
        "_scheme",
        "x",
    }
)
MODERATION_ACTIONS = [
    "dismiss",
    "hide",
    "restore",
    "delete",
    "approve",
    "warn",
    "suspend",
    "pin",
    "unpin",
    "lock",
    "unlock",
    "move",
    "feature",
    "unfeature",
    "duplicate",
    "merge",
    "split",
]
ROLES = ["visitor", "member", "moderator", "admin"]


# --- One world to be hostile to ------------------------------------------------------------


def _workshop_with_a_session(moderator, member):
    """A workshop (issue 18) the member holds a seat at, with one session."""
    from forum.services import workshops
    from tests.factories import make_session, make_workshop

    workshop = make_workshop(moderator, capacity=1)
    workshops.register(member, workshop)
    session = make_session(moderator, workshop)
    return workshop, session


@pytest.fixture
def world(app, member, other_member, moderator, admin, safety):
    """A topic with a reply, a tag, an agenda item, an open budget round, an application, a
    notification; with CSRF off (the walk is about what forms hold, not where they came from)."""
    app.config["WTF_CSRF_ENABLED"] = False
    topic = make_topic(safety, author=member, title="Evaluating refusal robustness")
    reply = make_post(topic, author=other_member, body=f"Agreed, @{member.handle}.")
    tag = tags.create_tag(moderator, name="red teaming")
    first, second = make_agenda_item(member), make_agenda_item(other_member)
    round_ = make_round(moderator, [first, second], budget=10, per_item_cap=5)
    application = make_application()
    notification = db.session.scalar(select(Notification).where(Notification.user_id == member.id))
    bookmark = bookmarks.bookmark_post(member, reply, note="reread")
    paper = papers.create_paper(
        member, papers.PaperDetails(title="A paper", status=PaperStatus.SUBMITTED)
    )
    asked = paper_authors.ask_to_join(other_member, paper)
    guideline = guidelines.create_guideline(
        moderator, title="Releasing open models", editor_emails=[member.email]
    )
    section = guidelines.add_section(
        member, guideline, heading="Scope", body="Open weights.", reason="First draft"
    )
    guidelines.change_state(member, guideline, to=GuidelineState.OPEN)
    workshop, session = _workshop_with_a_session(moderator, member)
    people = {"member": member, "moderator": moderator, "admin": admin}
    return {
        "people": people,
        "topic": topic,
        "post": reply,
        "ids": {
            "topic_id": topic.id,
            "post_id": reply.id,
            "user_id": member.id,
            "item_id": first.id,
            "round_id": round_.id,
            "application_id": application.id,
            "notification_id": notification.id if notification else 1,
            "bookmark_id": bookmark.id,
            "paper_id": paper.id,
            "author_id": asked.id,
            "guideline_id": guideline.id,
            "section_id": section.id,
            "suggestion_id": 1,  # none exists: the page answers 404
            "number": 1,  # a version
            "major": 1,  # a release (none exists yet)
            "minor": 1,  # (a 0 would read as unset)
            "workshop_id": workshop.id,  # issue 18
            "session_id": session.id,
            "part": 1,  # of the sitemap
        },
        "strings": {
            "handle": member.handle,
            "slug": {"discussions.tag": tag.slug, "discussions.delete_tag": tag.slug},
            "token": unsubscribe_token(member, "digest"),
            "filename": "style.css",
            "kind": "bib",  # a release's citation format
        },
        "ballot": {f"item-{first.id}": "3", f"item-{second.id}": "2"},
        "plausible": {
            "title": "A careful title",
            "body": "A careful body with a [link](https://example.org).",
            "kind": "discussion",
            "category": "security",
            "statement": "What we do not know.",
            "rationale": "It matters.",
            "area": "privacy",
            "status": "on_ballot",
            "note": "Because it is time.",
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-01-02T09:00",
            "timezone": "UTC",
            "method": "budget",
            "items": [str(first.id), str(second.id)],
            "budget": "10",
            "per_item_cap": "5",
            "credits": "100",
            "institution_share": "50",
            "full_name": "Ann Applicant",
            "email": "ann@institute.example",
            "institution": "Institute",
            "position": "Professor",
            "disciplines": "law",
            "ai_experience": "Some.",
            "relevance": "3",
            "fit": "4",
            "breadth": "5",
            "answer": "Here it is.",
            "question": "Which papers?",
            "display_name": "A Person",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "handle": other_member.handle,
            "user_id": str(other_member.id),
            "topic_id": str(topic.id),
            "post_ids": [str(reply.id)],
            "parent_id": str(reply.id),
            "reason": "spam",
            "level": "watching",
            "digest_frequency": "weekly",
            "digest_hour": "8",
            "digest_weekday": "1",
            "restricted_until": "2030-01-01",
            "name": "new tag",
            "up": "1",
        },
    }


def _rules(app, method: str) -> list:
    return sorted(
        (r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint != "static"),
        key=lambda r: (r.rule, r.endpoint),
    )


def _path_value(world: dict, rule, name: str, converter) -> st.SearchStrategy:
    if name == "action":
        return st.sampled_from(MODERATION_ACTIONS + ["x", "a\x00"])
    if type(converter).__name__ == "BoundedIntConverter":
        return st.sampled_from([world["ids"].get(name, 1), 0, *HUGE_IDS])
    known = _known_string(world, rule, name)
    return st.one_of(st.just(known), st.sampled_from(["a\x00b", "\x01", "²", "٣", "x" * 5000]))


@st.composite
def addresses(draw, world: dict, rules: list) -> str:
    rule = draw(st.sampled_from(rules))
    values = {
        name: draw(_path_value(world, rule, name, converter))
        for name, converter in rule._converters.items()
    }
    _domain, path = rule.build(values, append_unknown=False)
    return path


def _client_as(app, world: dict, role: str):
    """A fresh client, logged in as ``role`` unless a visitor (each example starts anew)."""
    client = app.test_client()
    if role != "visitor":
        person = world["people"][role]
        response = client.post(
            "/login", data={"email": person.email, "password": PASSWORD}, csrf=False
        )
        assert response.status_code == 302
    return client


WALK = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("role", ROLES)
def test_no_address_and_query_anyone_sends_is_a_server_error(app, world, role):
    paths = addresses(world, _rules(app, "GET"))
    queries = st.dictionaries(st.sampled_from(QUERY_NAMES), hostile_text, max_size=4)

    @WALK
    @given(path=paths, query=queries)
    def walk(path: str, query: dict[str, str]) -> None:
        response = _client_as(app, world, role).get(path, query_string=query)
        assert response.status_code < 500, (path, query)

    walk()


@pytest.mark.parametrize("role", ROLES)
def test_no_form_anyone_posts_is_a_server_error(app, world, role):
    paths = addresses(world, _rules(app, "POST"))
    names = sorted(_form_field_names() | VIEW_FORM_NAMES | set(world["ballot"]))
    hostile_fields = st.dictionaries(
        st.sampled_from(names), st.one_of(hostile_text, st.lists(hostile_text, max_size=3))
    )

    @WALK
    @given(path=paths, fields=hostile_fields, plausible=st.booleans())
    def walk(path: str, fields: dict, plausible: bool) -> None:
        base = {**world["plausible"], **world["ballot"]} if plausible else {}
        data = {**base, **fields}
        response = _client_as(app, world, role).post(path, data=data, csrf=False)
        assert response.status_code < 500, (path, data)

    walk()


@dataclass
class PageForm:
    """A form as a page shows it: where it goes, how, and each field with what it holds."""

    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)


class FormReader(HTMLParser):
    """The forms of a page, read as a browser would submit them untouched."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address, self.forms, self._open = address, [], None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            method = attrs.get("method", "get").lower()
            self._open = PageForm(attrs.get("action") or self.address, method)
            self.forms.append(self._open)
        elif self._open is not None and "name" in attrs:
            if tag in {"input", "textarea", "button"}:
                self._open.fields.setdefault(attrs["name"], []).append(attrs.get("value", "x"))
            elif tag == "select":
                self._select = attrs["name"]
                self._open.fields.setdefault(self._select, [])
        elif tag == "option" and self._select and self._open is not None:
            options = self._open.fields[self._select]
            if not options:
                options.append(attrs.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None
        elif tag == "select":
            self._select = None


def _forms_on_every_page(app, world: dict, role: str) -> list[PageForm]:
    """Every form on every page the role can open in the world, one per action and method."""
    client = _client_as(app, world, role)
    found: dict[tuple[str, str], PageForm] = {}
    for rule in _rules(app, "GET"):
        values = {
            name: world["ids"].get(name) or _known_string(world, rule, name)
            for name in rule.arguments
        }
        _domain, address = rule.build(values, append_unknown=False)
        response = client.get(address, follow_redirects=True)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        reader = FormReader(response.request.full_path.rstrip("?"))
        reader.feed(response.get_data(as_text=True))
        for form in reader.forms:
            if form.action.startswith("/") and form.action != "/logout":
                found.setdefault((form.action, form.method), form)
    return sorted(found.values(), key=lambda f: (f.action, f.method))


def _known_string(world: dict, rule, name: str) -> str:
    known = world["strings"].get(name, "safety")
    return known.get(rule.endpoint, "safety") if isinstance(known, dict) else known


def _submit_hostile_values(client, form: PageForm) -> None:
    """Submit ``form`` a few times, each field either as the page filled it or hostile."""
    typed_values = st.fixed_dictionaries(
        {
            name: st.one_of(hostile_text, st.just(values))
            for name, values in form.fields.items()
            if name != "csrf_token"
        }
    )

    @settings(WALK, max_examples=8)
    @given(typed=typed_values)
    def walk(typed: dict) -> None:
        if form.method == "post":
            response = client.post(form.action, data=typed, csrf=False)
        else:
            response = client.get(form.action, query_string=typed)
        assert response.status_code < 500, (form.action, typed)

    walk()


@pytest.mark.parametrize("role", ROLES)
def test_no_form_on_any_page_is_a_server_error_whatever_is_typed_into_it(app, world, role):
    forms = _forms_on_every_page(app, world, role)
    assert any(f.method == "post" for f in forms) and any(f.method == "get" for f in forms)
    client = _client_as(app, world, role)  # no form here logs out: one login serves them all
    for form in forms:
        _submit_hostile_values(client, form)


# --- The addresses found failing, one by one -------------------------------------------------


@pytest.mark.parametrize("number", HUGE_IDS, ids=str)
@pytest.mark.parametrize("prefix", ["/t", "/u", "/p", "/agenda", "/rounds", "/notifications"])
def test_member_following_an_address_with_an_impossibly_large_id_finds_nothing_there(
    client, member, prefix, number
):
    client.login(member)
    response = client.get(f"{prefix}/{number}")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.get_data(as_text=True)


def test_visitor_with_an_impossibly_large_topic_id_sees_the_same_page_as_for_a_missing_one(
    client,
):
    missing = client.get("/t/12345")
    huge = client.get("/t/99999999999999999999")
    assert missing.status_code == huge.status_code == 404
    as_written = page_without_tokens(huge).replace("99999999999999999999", "12345")
    assert as_written == page_without_tokens(missing)  # but for the address it links back to


CONTROL_ADDRESSES = [
    "/members?q=%00",
    "/latest?tag=a%00",
    "/tags/a%00b",
    "/c/a%00",
    "/@a%00",
    "/members?q=a%01b",
    "/t/1/slug%00",
    "/latest?tag=a%0Ab",
]


@pytest.mark.parametrize("address", CONTROL_ADDRESSES)
def test_member_whose_address_holds_a_control_character_is_told_why_it_is_refused(
    client, member, address
):
    client.login(member)
    response = client.get(address)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Unreadable characters" in page and "control character (such as NUL)" in page


def test_member_whose_mention_search_holds_a_nul_gets_a_json_refusal(client, member):
    client.login(member)
    response = client.get("/api/members/suggest?q=a%00")
    assert response.status_code == 400
    assert "control character" in response.get_json()["error"]


def test_arabic_reader_is_told_why_a_control_character_is_refused_in_arabic(client, member):
    client.login(member)
    client.post("/language", data={"locale": "ar", "next": "/"})
    page = client.get("/members?q=%00").get_data(as_text=True)
    assert "محارف غير مقروءة" in page


def test_visitor_applying_with_a_nul_in_their_name_is_refused_and_nothing_is_stored(
    client, applications_open
):
    response = client.post(
        "/apply",
        data={
            "full_name": "Ann\x00 Applicant",
            "email": "ann@institute.example",
            "institution": "Institute",
            "position": "Professor",
            "disciplines": "law",
            "ai_experience": "Some.",
            "statement": "I want to help.",
        },
    )
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_member_writing_tabs_and_line_breaks_in_a_reply_posts_it(client, member, topic):
    client.login(member)
    body = "First line\r\n\tindented\nlast line"
    response = client.post(f"/t/{topic.id}/reply", data={"body": body})
    assert response.status_code == 302
    newest = db.session.scalar(select(Post).order_by(Post.id.desc()))
    assert newest.body == body.replace("\r\n", "\n") or newest.body == body


def test_member_whose_topic_title_holds_an_escape_character_is_refused(client, member):
    client.login(member)
    response = client.post(
        "/c/safety/new",
        data={
            "title": "Coloured \x1b[31m title",
            "kind": "discussion",
            "body": "Body",
        },
    )
    assert response.status_code == 400 and "control character" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


def test_moderator_whose_tag_name_holds_a_nul_is_refused(client, moderator):
    client.login(moderator)
    response = client.post("/tags", data={"name": "red\x00team"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 0


# --- Numbers in the digits 0-9 ---------------------------------------------------------------


@pytest.fixture
def open_round(moderator, member):
    first, second = make_agenda_item(member), make_agenda_item(member)
    return make_round(moderator, [first, second], budget=10, per_item_cap=5)


@pytest.mark.parametrize("points", NON_ASCII_DIGITS + ["99999999999999999999", "-1", "3.0"])
def test_member_voting_with_digits_that_are_not_0_to_9_is_asked_for_whole_numbers(
    client, member, open_round, points
):
    client.login(member)
    first, second = open_round.items
    response = client.post(
        f"/rounds/{open_round.id}/ballot",
        data={f"item-{first.id}": points, f"item-{second.id}": "1"},
    )
    assert response.status_code == 400
    assert "Enter whole numbers (or leave a box empty)." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_member_voting_in_digits_0_to_9_has_their_ballot_saved(client, member, open_round):
    client.login(member)
    first, second = open_round.items
    response = client.post(
        f"/rounds/{open_round.id}/ballot", data={f"item-{first.id}": "3", f"item-{second.id}": "2"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def _round_form(on_ballot, **overrides) -> dict:
    return {
        "title": "Spring priorities",
        "description": "",
        "opens_at": "2030-01-01T09:00",
        "closes_at": "2030-01-08T09:00",
        "timezone": "UTC",
        "method": "budget",
        "items": [str(i.id) for i in on_ballot],
        "budget": "10",
        "per_item_cap": "5",
        "credits": "100",
        **overrides,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"budget": "١٠"}, "Enter a whole number using the digits 0 to 9."),
        ({"budget": "²"}, "Enter a whole number using the digits 0 to 9."),
        ({"per_item_cap": "①"}, "Enter a whole number using the digits 0 to 9."),
        ({"credits": "9" * 50_000}, "This number is too large."),
        ({"opens_at": "٢٠٣٠-٠١-٠١T09:00"}, "Give a day and time like 2030-03-01 09:30."),
        ({"items": ["²", "①"]}, "Invalid choice"),
    ],
)
def test_moderator_setting_up_a_round_in_other_digits_gets_a_message(
    client, member, moderator, fields, message
):
    items = [make_agenda_item(member), make_agenda_item(member)]
    client.login(moderator)
    response = client.post("/rounds/new", data=_round_form(items, **fields))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(VotingRound)) == 0


def test_member_choosing_a_digest_hour_in_arabic_digits_is_refused(client, member):
    client.login(member)
    response = client.post(
        "/settings/email",
        data={
            "digest_frequency": "weekly",
            "digest_hour": "٣",
            "digest_weekday": "1",
        },
    )
    assert response.status_code == 400 and "could not coerce" in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.digest_hour == 8


@pytest.mark.parametrize("page", ["²", "٣", "99999999999999999999", "-2", "x" * 50_000])
def test_reader_asking_for_a_page_number_in_other_digits_gets_the_first_page(client, page):
    response = client.get("/latest", query_string={"page": page})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("42", 42),
        (" 7 ", 7),
        (str(MAX_ID), MAX_ID),
        ("0" * 40 + "5", 5),
        (str(MAX_ID + 1), None),
        ("²", None),
        ("①", None),
        ("٣", None),
        ("-1", None),
        ("+1", None),
        ("1_000", None),
        ("", None),
        (None, None),
        ("9" * 50_000, None),
    ],
)
def test_a_number_is_read_only_from_the_digits_0_to_9(text, number):
    assert whole_number(text) == number


def test_moderator_scores_an_application_in_other_digits_and_is_told(client, moderator):
    application = make_application()
    client.login(moderator)
    response = client.post(
        f"/review/{application.id}/score",
        data={
            "relevance": "٣",
            "fit": "3",
            "breadth": "3",
        },
    )
    assert response.status_code == 400
    assert "Enter a whole number using the digits 0 to 9." in response.get_data(as_text=True)


def test_admin_whose_deadline_is_written_in_arabic_digits_is_told(client, admin):
    client.login(admin)
    response = client.post(
        "/admin/settings",
        data={
            "registration_mode": "application",
            "applications_open_at": "٢٠٣٠-٠١-٠١T09:00",
            "applications_timezone": "UTC",
        },
    )
    assert response.status_code == 400
    assert "Give a day and time like 2030-03-01 09:30." in response.get_data(as_text=True)


def test_the_walk_knows_every_form_field(app):
    names = _form_field_names()
    assert {"title", "body", "budget", "full_name", "digest_hour", "restricted_until"} <= names
    assert not any(re.search(r"\s", n) for n in names)


def test_member_searching_the_directory_with_a_very_long_text_finds_no_one(client, member):
    client.login(member)
    for name in ("q", "institution", "discipline"):
        response = client.get("/members", query_string={name: "x" * 50_000})
        assert response.status_code == 200, name


def test_member_asking_mention_suggestions_for_a_very_long_text_gets_none(client, member):
    client.login(member)
    response = client.get("/api/members/suggest", query_string={"q": "x" * 50_000})
    assert response.status_code == 200 and response.get_json() == []
