"""The composer and the keyboard shortcuts (issue 17) in a real headless Chromium."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.pages import Forum, TopicPage

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("test-artifacts")


def _logged_in(page, live_server, member) -> Forum:
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=member.email, password="correct horse battery")
    return forum


def _select(box, phrase: str) -> None:
    """Select a phrase in a text box, as a writer drags over it."""
    box.evaluate(
        """(area, phrase) => {
            const at = area.value.indexOf(phrase);
            area.focus();
            area.setSelectionRange(at, at + phrase.length);
        }""",
        phrase,
    )


def test_member_formats_with_the_toolbar_and_ctrl_b_sees_the_live_preview_and_posts(
    live_server, page, member, topic
):
    _logged_in(page, live_server, member)
    page.goto(f"{live_server}/t/{topic.id}/{topic.slug}?page=1")
    box = page.get_by_label("Your reply")
    preview = page.locator(".live-preview-body")
    box.fill("Careful wording matters")
    expect(preview.locator("p")).to_have_text("Careful wording matters")

    _select(box, "Careful")
    page.get_by_role("button", name="Bold").click()
    expect(box).to_have_value("**Careful** wording matters")
    expect(preview.locator("strong")).to_have_text("Careful")

    _select(box, "wording")
    box.press("Control+b")
    expect(box).to_have_value("**Careful** **wording** matters")
    expect(preview.locator("strong")).to_have_count(2)
    box.press("Control+z")  # the browser's undo takes the formatting back
    expect(box).to_have_value("**Careful** wording matters")
    box.press("Control+y")
    expect(box).to_have_value("**Careful** **wording** matters")

    # The toolbar is reached by Tab, each button named, its focus visible.
    page.get_by_role("button", name="Bold").focus()
    page.keyboard.press("Tab")
    italic = page.get_by_role("button", name="Italic")
    expect(italic).to_be_focused()
    assert italic.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"

    # Wide screen: the preview stands beside the text.
    assert preview.bounding_box()["x"] > box.bounding_box()["x"] + box.bounding_box()["width"]
    page.get_by_role("button", name="Post reply").click()
    reply = TopicPage(page).post("matters")
    expect(reply.locator("strong")).to_have_count(2)


def test_each_toolbar_button_writes_its_markdown_and_the_preview_renders_it(
    live_server, page, member
):
    _logged_in(page, live_server, member)
    page.set_viewport_size({"width": 600, "height": 900})
    page.goto(f"{live_server}/c/privacy/new")
    box = page.get_by_label("Body")
    preview = page.locator(".live-preview-body")
    for name in ("Italic", "Link", "Code"):
        box.press("End")
        page.get_by_role("button", name=name).click()
        box.press("End")
        box.type(" ")
    for name in ("Quote", "List", "Table"):
        box.press("Control+End")
        box.type("\n\n")
        page.get_by_role("button", name=name).click()
    expect(preview.locator("em")).to_have_text("italic text")
    expect(preview.locator("a")).to_have_text("link text")
    expect(preview.locator("code")).to_have_text("code")
    expect(preview.locator("blockquote")).to_have_text("quoted text")
    expect(preview.locator("li")).to_have_text("list item")
    expect(preview.locator("table th")).to_have_count(2)
    # Narrow screen: the preview comes below the text.
    assert preview.bounding_box()["y"] > box.bounding_box()["y"] + box.bounding_box()["height"]


def test_j_and_k_move_between_posts_and_slash_r_and_question_mark_do_their_jobs(
    live_server, page, member, topic
):
    from tests.factories import make_post

    make_post(topic, author=member, body="The second post.")
    make_post(topic, author=member, body="The third post.")
    _logged_in(page, live_server, member)
    page.goto(f"{live_server}/t/{topic.id}/{topic.slug}?page=1")
    thread = TopicPage(page)
    opening = page.locator("article.post").first
    page.locator("h1").click()

    page.keyboard.press("j")
    expect(opening).to_be_focused()
    page.keyboard.press("j")
    expect(thread.post("The second post.")).to_be_focused()
    assert (
        thread.post("The second post.").evaluate("p => getComputedStyle(p).outlineStyle") == "solid"
    )
    page.keyboard.press("j")
    expect(thread.post("The third post.")).to_be_focused()
    page.keyboard.press("k")
    expect(thread.post("The second post.")).to_be_focused()
    page.keyboard.press("Shift+J")  # a modifier: nothing moves
    page.keyboard.press("Control+j")
    expect(thread.post("The second post.")).to_be_focused()

    page.keyboard.press("/")
    expect(page.locator("#header-search")).to_be_focused()
    expect(page.locator("#header-search")).to_have_value("")
    page.keyboard.press("j")  # typing in the search box
    expect(page.locator("#header-search")).to_have_value("j")

    page.locator("h1").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next post")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("r")
    reply_box = page.get_by_label("Your reply")
    expect(reply_box).to_be_focused()
    page.keyboard.type("jk/?r")  # inside the text area every key is just typed
    expect(reply_box).to_have_value("jk/?r")
    expect(dialog).to_be_hidden()
    expect(reply_box).to_be_focused()


@pytest.mark.parametrize("width", [375, 1280])
def test_arabic_toolbar_and_help_page_read_right_to_left_without_overflow(
    live_server, browser, member, width
):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    try:
        _logged_in(page, live_server, member)
        toggle = page.locator("button.menu-toggle")
        if toggle.is_visible():  # on a phone the language switch is in the site menu
            toggle.click()
        page.get_by_role("button", name="العربية").click()
        page.goto(f"{live_server}/c/privacy/new")
        bold = page.get_by_role("button", name="عريض")
        italic = page.get_by_role("button", name="مائل")
        expect(bold).to_be_visible()
        assert bold.bounding_box()["x"] > italic.bounding_box()["x"]  # first at the right
        page.locator("textarea[name=body]").fill("**مرحبا** بالعالم")
        expect(page.locator(".live-preview-body strong")).to_have_text("مرحبا")
        SCREENSHOTS.mkdir(exist_ok=True)
        for path, name in (("/c/privacy/new", "composer"), ("/help/formatting", "help")):
            page.goto(live_server + path)
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls {overflow}px sideways at {width}px"
            page.screenshot(path=str(SCREENSHOTS / f"ar-{name}-{width}.png"), full_page=True)
        expect(page.locator("#tables table")).to_be_visible()
    finally:
        context.close()
