"""In Chromium: attaching an image and a PDF to a reply, dropping a file into the text, and an
SVG refused (issue 17, item 4)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.pages import Forum, TopicPage
from tests.test_attachments import PDF, photo_with_location, png

pytestmark = pytest.mark.browser
# The width of the image once it has loaded (decode() fails for a broken or blocked one).
LOADED_WIDTH = "img => img.decode().then(() => img.naturalWidth)"


def _reply_page(live_server, page, member, topic) -> Forum:
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=member.email, password="correct horse battery")
    forum.visit(f"/t/{topic.id}/reply")
    return forum


def test_member_attaches_an_image_and_a_pdf_to_a_reply(live_server, page, member, topic):
    _reply_page(live_server, page, member, topic)
    page.get_by_label("Your reply").fill("Our figure and the paper.")
    page.get_by_label("Attach files").set_input_files(
        [
            {"name": "figure.jpg", "mimeType": "image/jpeg", "buffer": photo_with_location()},
            {"name": "paper.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ]
    )
    page.get_by_role("button", name="Post reply").click()
    post = TopicPage(page).post("Our figure and the paper.")
    image = post.get_by_role("img", name="Attached image: figure.jpg")
    expect(image).to_be_visible()
    # Loaded (not blocked by the CSP, not broken) at its own size.
    assert image.evaluate(LOADED_WIDTH) == 640
    served = page.request.get(live_server + image.get_attribute("src"))
    assert dict(Image.open(io.BytesIO(served.body())).getexif()) == {}
    pdf = post.get_by_role("link", name="paper.pdf")
    expect(pdf).to_be_visible()
    expect(post.get_by_text(re.compile(r"PDF, \d+ bytes"))).to_be_visible()
    with page.expect_download() as download:
        pdf.click()
    assert download.value.suggested_filename == "paper.pdf"


def test_file_dropped_into_the_reply_is_uploaded_and_shown_inline(live_server, page, member, topic):
    _reply_page(live_server, page, member, topic)
    area = page.get_by_label("Your reply")
    area.fill("Look: ")
    area.evaluate(
        """(area, bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "chart.png", {type: "image/png"}));
            const drop = {dataTransfer: transfer, bubbles: true, cancelable: true};
            area.dispatchEvent(new DragEvent("drop", drop));
        }""",
        list(png(120, 80)),
    )
    expect(area).to_have_value(re.compile(r"Look: !\[chart\.png\]\(/a/[A-Za-z0-9_-]{22}\) "))
    expect(page.locator(".attachments-waiting")).to_contain_text("chart.png")
    page.get_by_role("button", name="Post reply").click()
    image = TopicPage(page).post("Look:").get_by_role("img", name="chart.png")
    expect(image).to_be_visible()
    assert image.evaluate(LOADED_WIDTH) == 120


def test_svg_is_refused_next_to_the_field_and_the_text_kept(live_server, page, member, topic):
    _reply_page(live_server, page, member, topic)
    page.get_by_label("Your reply").fill("A vector figure.")
    page.get_by_label("Attach files").set_input_files(
        {
            "name": "figure.svg",
            "mimeType": "image/svg+xml",
            "buffer": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        }
    )
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("#files-error")).to_contain_text("SVG and HTML files cannot be attached")
    expect(page.get_by_label("Your reply")).to_have_value("A vector figure.")
