"""Accessible everywhere, on phones too (issue 17, items 1 and 2).

axe-core (from the npm registry, node_modules/axe-core, installed by `make test` and .ci/run with
`npm ci`) runs in Debian's Chromium on every page the browser tests visit, as a visitor, a member
and a member of staff, in light and dark, in English and Arabic: it must find nothing. The same
pages must not scroll sideways at 320, 375 and 414 px. The forum is seeded once for the module.

axe is added as a Playwright init script (sent by the DevTools protocol, so the forum's
`script-src 'self'` applies to the page's own scripts only and stays as it is in production).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from werkzeug.serving import make_server

from forum import ROOT
from tests.conftest import running_app
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LOCALES = ["en", "ar"]
PHONE_WIDTHS = [320, 375, 414]
ROLES = ["visitor", "member", "staff"]
# Every rule runs in the light scheme; the dark one changes colours only, so it runs the rules
# about colour (the others would find the same as in light, at twice the time).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]

# What axe reports for one page, enough to find and fix each node.
RUN_AXE = """async (rules) => {
  const options = { resultTypes: ["violations"] };
  if (rules) options.runOnly = { type: "rule", values: rules };
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) =>
      n.target.join(" ") + " :: " + n.failureSummary.split("\\n").slice(0, 3).join(" ")),
  }));
}"""
PAGE_WIDTH = "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"


@dataclass
class World:
    base: str
    paths: dict[str, list[str]] = field(default_factory=dict)  # role -> pages
    logins: dict[tuple[str, str], str] = field(default_factory=dict)  # (role, locale) -> email
    invalid_forms: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # role -> forms
    named: dict[str, str] = field(default_factory=dict)  # a few pages by name -> path


def _seed() -> World:
    """A forum with something on every page: threads, tags, a flag, rounds, an application."""
    from forum.extensions import db
    from forum.models import FlagReason, Role, TopicKind
    from forum.models.types import utcnow
    from forum.services import applications, moderation, posting, tags, topic_areas, votes, voting
    from forum.services.site_settings import get_settings
    from tests.factories import (
        close_round,
        make_agenda_item,
        make_application,
        make_post,
        make_round,
        make_topic,
        make_user,
    )

    member = make_user(display_name="Maya Member", affiliation="University of Toronto", locale="en")
    member_ar = make_user(display_name="مريم الحسيني", affiliation="جامعة القاهرة", locale="ar")
    for person in (member, member_ar):
        person.profile_public = True
    # Staff with long names: the header must still fit on one row at 1280 px.
    admin = make_user(
        display_name="Maximiliana Featherstonehaugh-Montgomery",
        role=Role.ADMIN,
        affiliation="Karlsruhe Institute of Technology",
        locale="en",
    )
    admin_ar = make_user(
        display_name="عبد الرحمن بن عبد العزيز الشمري", role=Role.ADMIN, locale="ar"
    )
    writer = make_user(display_name="Omar Other", affiliation="Cairo University")
    db.session.commit()

    safety = topic_areas.get_category("safety")
    privacy = topic_areas.get_category("privacy")
    red = tags.create_tag(admin, name="red-teaming", description="Attacks on purpose.")
    tags.create_tag(admin, name="evaluation")
    question = make_topic(
        safety,
        author=member,
        kind=TopicKind.QUESTION,
        title="Do jailbreak benchmarks measure real risk?",
        body=(
            "Most suites test *single-turn* prompts. See [the survey](https://example.org/s).\n\n"
            "> Multi-turn attacks are missing.\n\n"
            "| Suite | Turns |\n|---|---|\n| A | 1 |\n\n```python\nprint('refusal')\n```"
        ),
    )
    posting.set_tags(question, [red.id])
    db.session.commit()
    answer = make_post(question, author=writer, body=f"Multi-turn refusal drops, @{member.handle}.")
    make_post(question, author=member_ar, body="أوافق: انظر نتائج هجوم التصعيد.", parent=answer)
    flagged = make_post(question, author=writer, body="An off-topic advert for shoes")
    make_post(question, author=writer, body=f"@{member_ar.handle} ما رأيك؟")
    # What widens a phone page if anything does: a long line of code, a wide table, deep nesting.
    wide = make_post(
        question,
        author=writer,
        body=(
            "```\npython -m attack --model llama-3-70b-instruct --suite jailbreakbench"
            " --turns 8 --judge gpt-4o --out results/llama-3-70b-instruct.jsonl\n```\n\n"
            "| Model | Suite | Turns | Judge | Refusal | Attack success | Notes |\n"
            "|---|---|---|---|---|---|---|\n"
            "| llama-3-70b-instruct | jailbreakbench | 8 | gpt-4o | 0.91 | 0.34 | multi-turn |\n"
        ),
    )
    parent = wide
    for depth in range(5):
        parent = make_post(question, author=member, body=f"Nested reply {depth + 1}", parent=parent)
    votes.set_vote(member_ar, answer, up=True)
    votes.accept_answer(member, answer)
    moderation.flag_post(member, flagged, reason=FlagReason.SPAM)
    resource = make_topic(privacy, author=writer, title="Canary tokens in training data")
    restricted = posting.create_topic(
        member,
        safety,
        title="A jailbreak that still works",
        body="Details for the moderators first.",
        restricted_until=utcnow() + timedelta(days=30),
        invited=[writer],
    )
    for n in range(3):
        make_topic(privacy, author=writer, title=f"Membership inference, part {n + 1}")

    items = [make_agenda_item(member, title=t) for t in ("Audit unlearning", "Detect jailbreaks")]
    open_round = make_round(admin, items, method="budget", budget=10, per_item_cap=5)
    closed = make_round(admin, items, method="approval")
    voting.cast_ballot(member, closed, entries={items[0].id: 1})
    voting.cast_ballot(member_ar, closed, entries={items[0].id: 1, items[1].id: 1})
    closed = close_round(closed)
    application = make_application(full_name="Tomás Herrera")
    settings = get_settings()  # applications open, so /apply shows its form
    settings.applications_open_at = utcnow() - timedelta(days=1)
    settings.applications_close_at = utcnow() + timedelta(days=7)
    db.session.commit()

    topic = f"/t/{question.id}/{question.slug}"
    world = World(base="")
    world.paths["visitor"] = [
        "/",
        "/latest",
        "/c/safety",
        topic,
        f"/t/{resource.id}/{resource.slug}",
        "/tags",
        "/tags/red-teaming",
        "/login",
        "/apply",
        "/register",
        "/password/forgot",
        "/agenda",
        f"/agenda/{items[0].id}",
        f"/rounds/{open_round.id}",
        f"/rounds/{closed.id}",
        "/search?q=refusal",
        f"/u/{member.id}",
        "/moderation/log",
        "/transparency",
        "/about",
        "/charter",
        "/code-of-conduct",
        "/privacy",
        "/no-such-page",
        f"/apply/status/{applications.status_link_token(application)}",
    ]
    world.paths["member"] = [
        "/",
        topic,
        "/c/safety/new",
        f"/t/{question.id}/reply",
        f"/rounds/{open_round.id}",
        f"/rounds/{closed.id}",
        "/agenda/new",
        "/members",
        "/notifications",
        "/settings/profile",
        "/settings/account",
        "/settings/email",
        f"/u/{member.id}",
        "/search?q=refusal",
        "/reports/new",
        f"/t/{restricted.id}/{restricted.slug}",
        "/papers/deadlines",
        "/papers/calendar",
    ]
    world.paths["staff"] = [
        "/",
        topic,
        "/moderation",
        "/review",
        f"/review/{application.id}",
        f"/t/{question.id}/moderate",
        "/rounds/new",
        "/admin/settings",
        f"/admin/digest/{member.id}",
        "/moderation/log",
        "/members",
    ]
    world.named = {
        "topic": topic,
        "new topic": "/c/safety/new",
        "moderation queue": "/moderation",
        "closed round": f"/rounds/{closed.id}",
        "moderation log": "/moderation/log",
    }
    # Forms sent empty: each field then carries its message (aria-invalid, aria-describedby).
    world.invalid_forms = {
        "visitor": [("/apply", "main form button[type=submit]")],
        "member": [("/c/safety/new", "main form button[type=submit]")],
    }
    world.logins = {
        ("member", "en"): member.email,
        ("member", "ar"): member_ar.email,
        ("staff", "en"): admin.email,
        ("staff", "ar"): admin_ar.email,
    }
    return world


@pytest.fixture(scope="module")
def world(database_url) -> Iterator[World]:
    with running_app(database_url) as app:
        seeded = _seed()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        seeded.base = f"http://127.0.0.1:{server.server_port}"
        yield seeded
        server.shutdown()
        thread.join(timeout=5)


def reader_context(browser: Browser, locale: str, *, width: int = 1280) -> BrowserContext:
    tag = "ar" if locale == "ar" else "en-GB"
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        locale=tag,
        extra_http_headers={"Accept-Language": tag},
    )
    context.set_default_timeout(10_000)
    return context


def log_in(page: Page, world: World, role: str, locale: str) -> None:
    page.context.clear_cookies()
    if role == "visitor":
        return
    page.goto(world.base + "/login")
    page.locator("main input[name=email]").fill(world.logins[role, locale])
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_axe_is_installed_from_the_npm_registry():
    assert AXE.exists(), "node_modules/axe-core is missing: run `npm ci` (make test does)"


@pytest.mark.parametrize("locale", LOCALES)
def test_axe_finds_nothing_on_any_page_in_light_and_dark(world, browser, locale):
    context = reader_context(browser, locale)
    context.add_init_script(path=str(AXE))
    found: list[str] = []
    try:
        page = context.new_page()

        def check(what: str) -> None:
            for scheme, rules in (("light", None), ("dark", COLOUR_RULES)):
                page.emulate_media(color_scheme=scheme)
                for violation in page.evaluate(RUN_AXE, rules):
                    found.append(
                        f"{what} {scheme} {locale}: {violation['id']} "
                        f"({violation['impact']}) {violation['help']}\n      "
                        + "\n      ".join(violation["nodes"])
                    )

        for role in ROLES:
            log_in(page, world, role, locale)
            for path in world.paths[role]:
                page.goto(world.base + path)
                check(f"{role} {path}")
            for path, send in world.invalid_forms.get(role, []):
                page.goto(world.base + path)
                page.locator(send).first.click()
                expect(page.locator("[aria-invalid=true]").first).to_be_visible()
                check(f"{role} {path} (sent empty)")
            # The header's menus open: the user menu, and the site menu on a phone.
            if role != "visitor":
                page.locator(".user-menu > summary").click()
                check(f"{role} / user menu open")
            page.set_viewport_size({"width": 375, "height": 800})
            page.goto(world.base + "/")
            page.locator(".menu-toggle").click()
            check(f"{role} / site menu open at 375 px")
            page.set_viewport_size({"width": 1280, "height": 900})
    finally:
        context.close()
    assert not found, f"{len(found)} axe violations:\n" + "\n".join(found)


@pytest.mark.parametrize("locale", LOCALES)
def test_axe_finds_nothing_on_the_open_registration_form(world, browser, locale):
    """The forum in open mode (the seeded one takes applications): /register is a form."""
    from forum.extensions import db
    from forum.models import RegistrationMode
    from forum.services.site_settings import get_settings

    settings = get_settings()
    settings.registration_mode = RegistrationMode.OPEN
    db.session.commit()
    context = reader_context(browser, locale)
    context.add_init_script(path=str(AXE))
    try:
        page = context.new_page()
        page.goto(world.base + "/register")
        expect(page.locator("main input[name=display_name]")).to_be_visible()
        found = []
        for scheme, rules in (("light", None), ("dark", COLOUR_RULES)):
            page.emulate_media(color_scheme=scheme)
            found += [f"{scheme}: {v['id']} {v['nodes']}" for v in page.evaluate(RUN_AXE, rules)]
        assert not found, found
    finally:
        context.close()
        settings.registration_mode = RegistrationMode.APPLICATION
        db.session.commit()


@pytest.mark.parametrize("locale", LOCALES)
def test_no_page_scrolls_sideways_on_a_phone(world, browser, locale):
    context = reader_context(browser, locale, width=PHONE_WIDTHS[0])
    wide: list[str] = []
    try:
        page = context.new_page()
        for role in ROLES:
            log_in(page, world, role, locale)
            for path in world.paths[role]:
                page.goto(world.base + path)
                for width in PHONE_WIDTHS:
                    page.set_viewport_size({"width": width, "height": 800})
                    scroll, client = page.evaluate(PAGE_WIDTH)
                    if scroll > client:
                        wide.append(f"{role} {path} at {width} px ({locale}): {scroll} > {client}")
                page.set_viewport_size({"width": PHONE_WIDTHS[0], "height": 800})
            page.goto(world.base + "/")
            for width in (1024, 1152):  # the header between a phone's and 1280 px
                page.set_viewport_size({"width": width, "height": 800})
                scroll, client = page.evaluate(PAGE_WIDTH)
                if scroll > client:
                    wide.append(f"{role} / at {width} px ({locale}): {scroll} > {client}")
            page.set_viewport_size({"width": PHONE_WIDTHS[0], "height": 800})
            page.locator(".menu-toggle").click()  # the site menu open fits too
            scroll, client = page.evaluate(PAGE_WIDTH)
            if scroll > client:
                wide.append(f"{role}: the open site menu ({locale}): {scroll} > {client}")
    finally:
        context.close()
    assert not wide, "pages wider than the phone:\n" + "\n".join(wide)


def focused(page: Page) -> str:
    """What has the keyboard focus, as a person would name it."""
    return page.evaluate(
        """() => {
          const e = document.activeElement;
          return (e.getAttribute("aria-label") || e.textContent || e.value || e.tagName).trim();
        }"""
    )


def tab_to(page: Page, selector: str, *, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable by Tab (stopped at {focused(page)!r})")


@pytest.mark.parametrize("locale", LOCALES)
def test_member_works_the_user_menu_by_keyboard(world, browser, locale):
    context = reader_context(browser, locale)
    try:
        page = context.new_page()
        log_in(page, world, "member", locale)
        page.goto(world.base + "/")
        menu = page.locator("details.user-menu")
        tab_to(page, "details.user-menu > summary")
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("open", "")
        expected = [
            "nav-user",
            "Activity",
            "Bookmarks",
            "Papers",
            "Edit profile",
            "Email preferences",
            "Account and security",
        ]
        names = []
        for _ in expected:
            page.keyboard.press("Tab")
            names.append(focused(page))
        assert names[0] == page.locator(".user-menu .nav-user").inner_text()
        assert len(set(names)) == len(expected), names
        page.keyboard.press("Tab")
        expect(page.locator(".user-menu-logout button")).to_be_focused()
        page.keyboard.press("Escape")
        expect(menu).not_to_have_attribute("open", "")
        expect(menu.locator("summary")).to_be_focused()

        page.keyboard.press("Enter")
        for _ in range(expected.index("Edit profile") + 1):
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # Edit profile
        expect(page).to_have_url(world.base + "/settings/profile")
    finally:
        context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_on_a_phone_the_site_menu_opens_by_keyboard_and_slash_still_finds_search(
    world, browser, locale
):
    context = reader_context(browser, locale, width=375)
    try:
        page = context.new_page()
        log_in(page, world, "member", locale)
        page.goto(world.base + "/")
        toggle = page.locator(".menu-toggle")
        expect(page.locator("#site-menu")).to_be_hidden()
        tab_to(page, ".menu-toggle")
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Tab")
        expect(page.locator(".main-nav a").first).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.locator("#site-menu")).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()

        page.locator("h1").first.click()
        page.keyboard.press("/")
        expect(page.locator("#header-search")).to_be_focused()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    finally:
        context.close()


def test_without_script_the_header_menus_still_work_on_a_phone(world, browser):
    context = browser.new_context(viewport={"width": 375, "height": 800}, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, world, "member", "en")
        page.goto(world.base + "/")
        expect(page.locator(".menu-toggle")).to_be_hidden()  # it would need script
        expect(page.get_by_role("link", name="Agenda", exact=True)).to_be_visible()
        expect(page.locator("#header-search")).to_be_visible()
        page.locator(".user-menu > summary").click()
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("link", name="Log in")).to_be_visible()
    finally:
        context.close()


HEADER_ITEMS = """() => {
  const row = document.querySelector(".header-row");
  const items = [...row.querySelectorAll(":scope > *, .site-menu > *")]
    .filter((e) => !e.classList.contains("site-menu") && e.checkVisibility());
  return items.map((e) => {
    const r = e.getBoundingClientRect();
    return [e.className, r.top, r.bottom];
  });
}"""


def assert_one_row(page: Page, what: str) -> None:
    items = page.evaluate(HEADER_ITEMS)
    lowest_top = max(top for _, top, _ in items)
    highest_bottom = min(bottom for _, _, bottom in items)
    assert lowest_top < highest_bottom, f"{what}: the header wraps: {items}"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_header_is_one_row_for_staff_with_long_names_at_1280_and_for_everyone_on_phones(
    world, browser, locale
):
    context = reader_context(browser, locale)
    try:
        page = context.new_page()
        for role in ROLES:
            log_in(page, world, role, locale)
            for width in (1280, *PHONE_WIDTHS):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(world.base + "/")
                assert_one_row(page, f"{role} at {width} px ({locale})")
                if width == 1280 and role == "staff":
                    expect(
                        page.get_by_role("link", name=STAFF_LINK[locale], exact=True)
                    ).to_be_visible()
                    expect(page.locator("#header-search")).to_be_visible()
    finally:
        context.close()


STAFF_LINK = {"en": "Moderation", "ar": "الإشراف"}


@pytest.mark.parametrize(
    "role,page_name",
    [
        ("member", "topic"),
        ("member", "new topic"),
        ("staff", "moderation queue"),
        ("visitor", "closed round"),
        ("visitor", "moderation log"),
    ],
)
def test_every_control_shows_where_the_keyboard_focus_is(world, browser, role, page_name):
    """Tab through the whole page: each stop is on screen with a visible outline."""
    context = reader_context(browser, "en")
    try:
        page = context.new_page()
        log_in(page, world, role, "en")
        url = world.named[page_name]
        page.goto(world.base + url)
        seen = 0
        for _ in range(150):
            page.keyboard.press("Tab")
            state = page.evaluate(
                """() => {
                  const e = document.activeElement;
                  if (e === document.body) return null;
                  const s = getComputedStyle(e), r = e.getBoundingClientRect();
                  // The last stop in a date field is the browser's own calendar button, which
                  // draws its own ring: the field itself then does not match :focus.
                  const picker = /^(date|datetime-local|time|month|week)$/.test(e.type)
                    && !e.matches(":focus");
                  return {
                    name: (e.getAttribute("aria-label") || e.textContent || e.name || e.tagName)
                      .trim().slice(0, 40),
                    outline: picker
                      || (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2),
                    style: s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor,
                    shown: r.width > 0 && r.height > 0 && e.checkVisibility(),
                  };
                }"""
            )
            if state is None:
                break
            seen += 1
            assert state["outline"], (
                f"{url}: no visible focus on {state['name']!r}: {state['style']}"
            )
            assert state["shown"], f"{url}: the focus went to something hidden: {state['name']!r}"
        assert seen > 5, f"{url}: Tab reached only {seen} controls"
    finally:
        context.close()
