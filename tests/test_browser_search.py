"""The search page on a phone (issue 16): the results come first, the filters wait behind their
summary until asked for (or while one is in use); on a wide screen they show as a row."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forum.services import topic_areas
from tests.factories import make_topic

PHONE = {"width": 375, "height": 667}


@pytest.fixture
def canaries(app, member):
    for n in range(3):
        make_topic(
            topic_areas.get_category("privacy"),
            author=member,
            title=f"Canary tokens in training data {n}",
            body="We plant canaries and watch for them.",
        )


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_on_a_phone_the_first_results_show_without_scrolling_and_the_filters_wait(
    live_server, phone, canaries
):
    phone.goto(live_server + "/search?q=canaries")

    first = phone.locator(".search-result").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    expect(phone.get_by_label("Area")).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    phone.get_by_text("Filters", exact=True).click()
    phone.get_by_label("Area").select_option(label="Privacy")
    phone.get_by_role("button", name="Search").click()

    expect(phone).to_have_url(re.compile(r"[?&]area=privacy"))
    expect(phone.get_by_text("Filters (1 in use)")).to_be_visible()
    expect(phone.get_by_label("Area")).to_be_visible()  # open while a filter is in use
    expect(phone.locator(".search-result")).to_have_count(3)


def test_on_a_wide_screen_the_filters_show_as_a_row_without_a_click(live_server, page, canaries):
    page.goto(live_server + "/search?q=canaries")

    expect(page.get_by_label("Area")).to_be_visible()
    expect(page.get_by_label("Agenda status")).to_be_visible()
    expect(page.get_by_text("Filters", exact=True)).to_be_hidden()


def test_on_a_phone_in_arabic_the_results_come_first_and_nothing_widens_the_page(
    live_server, browser, canaries
):
    context = browser.new_context(
        viewport=PHONE, locale="ar", extra_http_headers={"Accept-Language": "ar"}
    )
    try:
        tab = context.new_page()
        tab.goto(live_server + "/search?q=canaries")
        expect(tab.locator("html")).to_have_attribute("dir", "rtl")
        box = tab.locator(".search-result").first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
        expect(tab.get_by_text("عوامل التصفية", exact=True)).to_be_visible()
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
