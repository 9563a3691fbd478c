"""User journeys in a real headless Chromium (Debian's), against a live server."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.pages import ApplicationPage, Forum, ReviewQueue, TopicPage, select_text_in
from tests.test_membership import link_in

pytestmark = pytest.mark.browser


def test_newcomer_registers_opens_a_safety_topic_and_discusses_in_a_thread(
    open_registration, live_server, page
):
    forum = Forum(page, live_server)
    forum.register(email="noor@uni.example", name="Noor Aziz", password="a long password")
    forum.log_out()
    forum.log_in(email="noor@uni.example", password="a long password")
    forum.open_user_menu()
    expect(page.get_by_role("link", name="Noor Aziz")).to_be_visible()

    forum.open_area("Safety")
    topic = forum.open_topic(
        title="Do jailbreak benchmarks measure real risk?",
        body="Most suites test *single-turn* prompts.",
    )
    expect(page.locator(".post-opening em", has_text="single-turn")).to_be_visible()

    topic.reply_to_topic("Multi-turn attacks are missing from most of them.")
    topic.reply_to_post(
        "Multi-turn attacks are missing", "Agreed: see the crescendo attack results."
    )
    assert topic.depth_of("Multi-turn attacks are missing") == 0
    assert topic.depth_of("Agreed: see the crescendo") == 1
    parent = topic.post("Multi-turn attacks are missing")
    child = topic.post("Agreed: see the crescendo")
    assert parent.bounding_box()["y"] < child.bounding_box()["y"]
    assert parent.bounding_box()["x"] < child.bounding_box()["x"]  # indented under its parent

    page.reload()
    permalink = topic.permalink_of("Agreed: see the crescendo")
    page.goto(live_server + "/")
    page.goto(live_server + permalink)
    expect(page).to_have_url(f"{live_server}/t/1/do-jailbreak-benchmarks-measure-real-risk#post-3")
    expect(page.locator("article.post:target")).to_contain_text("crescendo")
    forum.log_out()


def test_invalid_topic_keeps_what_was_typed_in_the_browser(live_server, page, member):
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=member.email, password="correct horse battery")
    forum.open_area("Privacy")
    page.get_by_role("link", name="New topic").click()
    page.get_by_label("Body").fill("My carefully written question body")
    page.get_by_role("button", name="Post topic").click()
    expect(page.get_by_text("Give the topic a title.")).to_be_visible()
    expect(page.get_by_label("Body")).to_have_value("My carefully written question body")


def test_arabic_reader_sees_a_right_to_left_page(live_server, page):
    forum = Forum(page, live_server)
    forum.visit("/")
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")


def test_visitor_applies_is_approved_sets_a_password_and_posts(
    live_server, page, moderator, applications_open, mail_server
):
    forum = Forum(page, live_server)
    forum.visit("/")
    page.get_by_role("link", name="Apply to join").click()
    form = ApplicationPage(page)
    form.fill(
        **{
            "Full name": "Tomás Herrera",
            "Email": "tomas@uchile.example",
            "Institution": "Universidad de Chile",
            "Position": "Assistant Professor",
            "Relevant AI experience": "I audit LLM deployments for public agencies.",
            "Statement of interest": "I want to work on privacy audits of public-sector chatbots.",
        }
    )
    form.choose_disciplines("Law", "Computer security")
    expect(page.get_by_text("10 of 1000 words")).to_be_visible()
    form.send()
    expect(page.get_by_role("heading", name="Thank you: your application is in")).to_be_visible()
    [confirmation] = mail_server.wait_for(1)
    page.goto(live_server + link_in(confirmation, "/apply/status/"))
    expect(page.get_by_text("Waiting for review.")).to_be_visible()

    # Two reviewers from other institutions score it; then one approves.
    from forum.models import Role
    from tests.factories import make_user

    colleague = make_user(role=Role.MODERATOR, affiliation="Universidad de Buenos Aires")
    queue = ReviewQueue(page)
    for reviewer in (colleague, moderator):
        forum.visit("/")
        forum.log_in(email=reviewer.email, password="correct horse battery")
        queue.open_application("Tomás Herrera")
        queue.score(5, 4, 4)
        if reviewer is colleague:
            expect(
                page.get_by_text("Approval needs rubric scores from 2 reviewers")
            ).to_be_visible()
            forum.log_out()
    queue.approve()
    forum.log_out()

    invitation = mail_server.wait_for(2)[1]
    page.goto(live_server + link_in(invitation, "/invitation/"))
    page.get_by_label("Password", exact=True).fill("tomas long password")
    page.get_by_label("Repeat password").fill("tomas long password")
    page.get_by_role("button", name="Set password and log in").click()
    expect(page.get_by_text("Welcome to the forum, Tomás Herrera!")).to_be_visible()
    forum.log_out()

    forum.log_in(email="tomas@uchile.example", password="tomas long password")
    forum.open_area("Privacy")
    forum.open_topic(title="Auditing public-sector chatbots", body="Who has an audit protocol?")
    expect(page.locator(".post-opening .post-author")).to_have_text("Tomás Herrera")


def test_member_quotes_part_of_a_post_previews_and_posts_and_the_quote_links_back(
    live_server, page, member, other_member, topic
):
    from tests.factories import make_post

    source = make_post(
        topic,
        author=other_member,
        body="Refusal rates drop in low-resource languages. Translation attacks exploit this.",
    )
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=member.email, password="correct horse battery")
    page.goto(f"{live_server}/t/{topic.id}/{topic.slug}?page=1")
    thread = TopicPage(page)
    post = thread.post("Refusal rates drop")
    select_text_in(page, post, "Translation attacks exploit this.")
    post.get_by_role("link", name="Quote").click()
    box = page.get_by_label("Your reply")
    expect(box).to_have_value(
        f"> **Omar Other** [wrote](/p/{source.id}):\n>\n> Translation attacks exploit this.\n\n"
    )
    box.press("End")
    box.type("Do we have numbers for Arabic dialects?")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section.preview")
    expect(preview.locator("blockquote")).to_contain_text("Translation attacks exploit this.")
    expect(preview.locator("blockquote")).not_to_contain_text("Refusal rates drop")
    expect(page.get_by_label("Your reply")).to_have_value(re.compile("Arabic dialects"))
    page.get_by_role("button", name="Post reply").click()
    reply = thread.post("Do we have numbers for Arabic dialects?")
    expect(reply.locator("blockquote")).to_contain_text("Translation attacks exploit this.")
    reply.locator("blockquote").get_by_role("link", name="wrote").click()
    expect(page.locator("article.post:target")).to_contain_text("Refusal rates drop")


def test_reply_draft_survives_an_accidental_reload(live_server, page, member, topic):
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=member.email, password="correct horse battery")
    page.goto(f"{live_server}/t/{topic.id}/{topic.slug}?page=1")
    page.get_by_label("Your reply").fill("A long careful answer in progress")
    page.reload()
    expect(page.get_by_label("Your reply")).to_have_value("A long careful answer in progress")
    page.get_by_role("button", name="Post reply").click()
    page.goto(f"{live_server}/t/{topic.id}/{topic.slug}?page=1")
    expect(page.get_by_label("Your reply")).to_have_value("")


def test_member_spreads_points_changes_their_mind_and_sees_the_results_chart(
    live_server, page, member, moderator
):
    from datetime import timedelta

    from forum.extensions import db
    from forum.models.types import utcnow
    from forum.services import round_results
    from tests.factories import make_agenda_item, make_round

    titles = ("Audit unlearning", "Detect jailbreaks")
    items = [make_agenda_item(moderator, title=t) for t in titles]
    round_ = make_round(moderator, items, method="budget", budget=10, per_item_cap=5)
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=member.email, password="correct horse battery")
    page.goto(f"{live_server}/rounds/{round_.id}")
    remaining = page.locator(".remaining")
    expect(remaining).to_have_text("10 of 10 left")
    page.get_by_label("Audit unlearning").fill("5")
    expect(remaining).to_have_text("5 of 10 left")
    page.get_by_label("Detect jailbreaks").fill("4")
    expect(remaining).to_have_text("1 of 10 left")
    page.get_by_role("button", name="Save my ballot").click()
    expect(page.get_by_text("Your ballot is saved.")).to_be_visible()

    page.get_by_label("Audit unlearning").fill("1")
    page.get_by_label("Detect jailbreaks").fill("5")
    expect(remaining).to_have_text("4 of 10 left")
    page.get_by_role("button", name="Change my ballot").click()
    expect(page.get_by_label("Detect jailbreaks")).to_have_value("5")

    round_.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    round_results.close_due_rounds()
    page.reload()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    chart = page.locator(".chart svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(2)
    first_row = page.locator(".results tbody tr").first
    expect(first_row).to_contain_text("Detect jailbreaks")


def test_three_members_flag_a_post_it_disappears_and_a_moderator_restores_it(
    live_server, browser, moderator, safety
):
    from tests.factories import make_post, make_topic, make_user

    author = make_user(display_name="Poster")
    topic = make_topic(safety, author=author, title="Benchmark thread")
    make_post(topic, author=author, body="An off-topic advert for shoes")
    flaggers = [make_user() for _ in range(3)]
    url = f"{live_server}/t/{topic.id}/{topic.slug}?page=1"
    for flagger in flaggers:
        context = browser.new_context()
        page = context.new_page()
        forum = Forum(page, live_server)
        forum.visit("/")
        forum.log_in(email=flagger.email, password="correct horse battery")
        page.goto(url)
        post = TopicPage(page).post("An off-topic advert for shoes")
        post.locator("summary", has_text="Flag").click()
        post.get_by_label("Off-topic").check()
        post.get_by_role("button", name="Send flag").click()
        expect(page.get_by_text("Thank you")).to_be_visible()
        context.close()

    reader = browser.new_context().new_page()
    reader.goto(url)
    expect(reader.get_by_text("Hidden after flags from members")).to_be_visible()
    expect(reader.get_by_text("An off-topic advert for shoes")).to_have_count(0)

    mod_page = browser.new_context().new_page()
    forum = Forum(mod_page, live_server)
    forum.visit("/")
    forum.log_in(email=moderator.email, password="correct horse battery")
    mod_page.get_by_role("link", name="Moderation", exact=True).click()
    entry = mod_page.locator(".queue-entry", has_text="An off-topic advert for shoes")
    expect(entry).to_contain_text("3 flags")
    entry.get_by_role("button", name="Restore").click()
    expect(mod_page.get_by_text("No open flags.")).to_be_visible()
    reader.reload()
    expect(reader.get_by_text("An off-topic advert for shoes")).to_be_visible()


def test_moderator_merges_two_topics_and_the_old_address_lands_on_the_merged_topic(
    live_server, page, moderator, member, safety
):
    from tests.factories import make_post, make_topic

    target = make_topic(safety, author=member, title="Refusal drift: main thread")
    source = make_topic(safety, author=member, title="Refusal drift again")
    make_post(source, author=member, body="A reply that should move")
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=moderator.email, password="correct horse battery")
    page.goto(f"{live_server}/t/{source.id}/{source.slug}?page=1")
    page.get_by_role("link", name="Moderate").click()
    page.get_by_label("Number of the topic to merge into").fill(str(target.id))
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("heading", name="Refusal drift: main thread", level=1)).to_be_visible()
    expect(page.get_by_text("A reply that should move")).to_be_visible()
    page.goto(f"{live_server}/t/{source.id}/{source.slug}")
    expect(page).to_have_url(re.compile(rf"/t/{target.id}/"))
    expect(page.get_by_role("heading", name="Refusal drift: main thread", level=1)).to_be_visible()


def test_topic_page_loads_one_blocking_stylesheet_and_under_60_kb(live_server, browser, app):
    """What bench/firstpaint.py times on a throttled phone, without the clock: the page waits
    for nothing but its one stylesheet, and a cold load of a 20-reply topic sends under 60 KB."""
    from bench.firstpaint import measure, seeded_topic_url

    path = seeded_topic_url(app, 20)
    loaded = measure(browser, live_server + path, throttle=False)
    assert [Path(url).suffix for url in loaded["blocking"]] == [".css"], loaded
    assert loaded["fcp"] is not None
    assert loaded["bytes"] < 60 * 1024, loaded


@pytest.mark.parametrize("locale", ["en-GB", "ar"])
def test_the_public_log_and_a_round_fit_a_phone_without_scrolling_sideways(
    live_server, browser, member, moderator, locale
):
    """The pages anyone is sent to check a decision carry 64-digit hashes and long commands:
    they wrap (or scroll in their own box) instead of widening a 375 px page."""
    from datetime import timedelta

    from forum.extensions import db
    from forum.models.types import utcnow
    from forum.services import round_results, voting
    from tests.factories import make_agenda_item, make_round

    items = [
        make_agenda_item(moderator, title=t) for t in ("Audit unlearning", "Detect jailbreaks")
    ]
    round_ = make_round(moderator, items, method="approval", institution_share=0.5)
    voting.cast_ballot(member, round_, entries={items[0].id: 1})
    round_.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    round_results.close_due_rounds()
    context = browser.new_context(
        viewport={"width": 375, "height": 800},
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
    )
    try:
        tab = context.new_page()
        for path in ("/moderation/log", f"/rounds/{round_.id}", "/transparency"):
            tab.goto(live_server + path)
            expect(tab.locator("h1")).to_be_visible()
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width} px wide at 375 px ({locale})"
    finally:
        context.close()


def test_member_searches_from_the_header_filters_by_area_and_opens_a_result(
    live_server, page, member
):
    from forum.services import topic_areas
    from tests.factories import make_topic

    make_topic(topic_areas.get_category("privacy"), author=member, title="Canary tokens in data")
    make_topic(
        topic_areas.get_category("security"),
        author=member,
        title="Canary strings for leak detection",
        body="We plant canaries and watch for them.",
    )
    page.goto(live_server + "/")
    page.keyboard.press("/")  # the shortcut goes to the header's search box
    expect(page.locator("#header-search")).to_be_focused()
    page.keyboard.type("canaries")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/search\?q=canaries"))
    expect(page.locator(".search-result")).to_have_count(2)
    expect(page.locator(".search-snippet mark").first).to_be_visible()

    page.get_by_label("Area").select_option(label="Security")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".search-result")).to_have_count(1)

    page.locator(".search-result-title").click()
    expect(page).to_have_url(re.compile(r"/t/\d+/canary-strings-for-leak-detection"))
    expect(page.locator(".post-opening")).to_contain_text("We plant canaries")


def _contrast(foreground: str, background: str) -> float:
    def luminance(css: str) -> float:
        red, green, blue = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_unread_count_on_the_bell_is_readable_in_light_and_dark(
    live_server, browser, member, topic, scheme
):
    from tests.factories import make_post, make_user

    writer = make_user(display_name="Writer")
    make_post(topic, author=writer, body=f"Thoughts, @{member.handle}?")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    try:
        tab = context.new_page()
        forum = Forum(tab, live_server)
        forum.visit("/")
        forum.log_in(email=member.email, password="correct horse battery")
        count = tab.locator(".bell-count")
        expect(count).to_be_visible()
        colours = count.evaluate(
            "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
        )
        assert _contrast(*colours) >= 4.5, colours
    finally:
        context.close()


def test_the_round_countdown_names_days_in_the_readers_language_and_closes_the_ballot_at_zero(
    live_server, browser, member, moderator
):
    from datetime import timedelta

    from tests.factories import make_agenda_item, make_round

    items = [
        make_agenda_item(moderator, title=t) for t in ("Audit unlearning", "Detect jailbreaks")
    ]
    long_round = make_round(moderator, items, closes_in=timedelta(days=3, hours=2))
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="ar",
        extra_http_headers={"Accept-Language": "ar"},
    )
    try:
        tab = context.new_page()
        tab.goto(live_server + "/login")
        tab.locator("input[name=email]").fill(member.email)
        tab.locator("input[name=password]").fill("correct horse battery")
        tab.locator("form button[type=submit]").last.click()
        tab.goto(f"{live_server}/rounds/{long_round.id}")
        countdown = tab.locator(".countdown")
        expect(countdown).to_contain_text("أيام")
        assert "d " not in countdown.inner_text()
        # Made just before it is opened, so a busy machine does not let it close first.
        short_round = make_round(moderator, items, closes_in=timedelta(seconds=8))
        tab.goto(f"{live_server}/rounds/{short_round.id}")
        button = tab.locator("form.ballot-form button[type=submit]")
        expect(button).to_be_enabled()
        expect(button).to_be_disabled(timeout=20_000)
        expect(button).to_have_text("انتهى التصويت.")
    finally:
        context.close()


def test_tags_keep_their_own_direction_on_an_arabic_page(live_server, browser, moderator, topic):
    from forum.extensions import db
    from forum.services import posting, tags

    posting.set_tags(topic, [tags.create_tag(moderator, name="red-teaming").id])
    db.session.commit()
    context = browser.new_context(locale="ar", extra_http_headers={"Accept-Language": "ar"})
    try:
        tab = context.new_page()
        tab.goto(f"{live_server}/t/{topic.id}")
        directions = tab.eval_on_selector_all(
            ".tag", "els => els.map(e => [e.textContent, getComputedStyle(e).direction])"
        )
        # Tag names are Latin: "#red-teaming" reads left to right, not "red-teaming#".
        assert directions == [["#red-teaming", "ltr"]]
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_admin_sees_the_digest_styled_as_mail_clients_show_it(
    live_server, browser, app, member, scheme
):
    from forum.models import Role
    from tests.factories import make_user

    admin = make_user(role=Role.ADMIN, email="chair@uni.example")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    refused = []
    try:
        tab = context.new_page()
        tab.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )
        forum = Forum(tab, live_server)
        forum.visit("/")
        forum.log_in(email=admin.email, password="correct horse battery")
        tab.goto(f"{live_server}/admin/digest/{member.id}")
        body = tab.frame_locator("iframe.digest-preview").locator("body")
        expect(body).to_be_visible()
        # The email's own inline styles apply: its grey page and dark text on white.
        assert body.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(244, 245, 247)"
        card = tab.frame_locator("iframe.digest-preview").locator("body > div").first
        assert card.evaluate("e => getComputedStyle(e).color") == "rgb(31, 35, 40)"
        assert not refused, refused
    finally:
        context.close()
