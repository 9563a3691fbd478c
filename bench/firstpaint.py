"""Benchmark: a topic page's first contentful paint on a slow phone, and what it transfers.

    .venv/bin/python bench/firstpaint.py [--posts 20] [--runs 5] [--write]

Serves a forum seeded with one topic of --posts replies (werkzeug, in this process) and opens the
topic page in Debian's headless Chromium at 375 px with the Chrome DevTools protocol emulating
Lighthouse's mobile "slow 4G" profile (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) and a
4x CPU slowdown, a fresh browser context (empty cache) each run. It prints the median first
contentful paint, the bytes transferred (compressed, as sent) and the render-blocking requests;
--write puts them into docs/performance.md between its markers.

The same measurement without the clock (render-blocking requests, bytes) is checked by
tests/test_browser.py::test_topic_page_loads_one_blocking_stylesheet_and_under_60_kb.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Lighthouse's mobileSlow4G throttling (lighthouse-core/config/constants.js).
SLOW_4G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8,
    "uploadThroughput": 750 * 1024 / 8,
}
CPU_SLOWDOWN = 4
PHONE = {"width": 375, "height": 740}

MEASURE = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  return {
    fcp: paint ? paint.startTime : null,
    bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
    blocking: resources.filter(r => r.renderBlockingStatus === 'blocking').map(r => r.name),
    requests: 1 + resources.length,
  };
}"""


PAINTED = "() => performance.getEntriesByName('first-contentful-paint').length > 0"


def measure(browser, url: str, *, throttle: bool = True) -> dict:
    """Open ``url`` in a fresh context (phone width, empty cache) and read the page's own
    performance entries once it has loaded."""
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    try:
        tab = context.new_page()
        if throttle:
            cdp = context.new_cdp_session(tab)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_4G)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        tab.goto(url, wait_until="load")
        # Polled from here: wait_for_function evaluates its predicate with eval() inside the
        # page, which the forum's Content-Security-Policy (script-src 'self') rightly refuses.
        deadline = time.monotonic() + 30
        while not tab.evaluate(PAINTED):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no first contentful paint on {url} within 30 s")
            tab.wait_for_timeout(50)
        return tab.evaluate(MEASURE)
    finally:
        context.close()


def seeded_topic_url(app, posts: int) -> str:
    from forum.services import topic_areas
    from tests.factories import make_post, make_topic, make_user

    with app.app_context():
        people = [make_user(display_name=f"Reader {n}") for n in range(5)]
        body = (
            "We compared **membership inference** attacks on fine-tuned models; "
            "see [the paper](https://example.org/paper) and the table below.\n\n"
            "| model | AUC |\n|---|---|\n| base | 0.61 |\n| tuned | 0.83 |\n"
        )
        topic = make_topic(
            topic_areas.get_category("privacy"),
            author=people[0],
            title="Membership inference on clinical notes",
            body=body,
        )
        for n in range(posts):
            make_post(topic, author=people[n % 5], body=f"Reply {n}: " + body)
        return f"/t/{topic.id}/{topic.slug}"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from forum import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    database = Path(tempfile.mkdtemp()) / "firstpaint.db"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "bench-only",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        from forum.extensions import db

        db.create_all()  # a throwaway benchmark database, like the test suite's
        from forum.services import topic_areas

        topic_areas.ensure_default_categories()
    path = seeded_topic_url(app, args.posts)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}{path}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        measure(browser, url)  # the browser's own first start is not the page's cost
        runs = [measure(browser, url) for _ in range(args.runs)]
        browser.close()
    server.shutdown()
    fcp = statistics.median(run["fcp"] for run in runs)
    each = ", ".join(f"{run['fcp']:.0f}" for run in runs)
    result = (
        f"Topic page with {args.posts} replies, visitor, 375 px, slow 4G (150 ms, 1.6 Mbit/s) "
        f"and {CPU_SLOWDOWN}x CPU slowdown, median of {args.runs} cold loads: first contentful "
        f"paint **{fcp:.0f} ms** (runs: {each}), "
        f"**{runs[0]['bytes'] / 1024:.1f} KB** transferred in {runs[0]['requests']} requests, "
        f"render-blocking: {', '.join(Path(u).name for u in runs[0]['blocking']) or 'none'}. "
        f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} during the run."
    )
    print(result)
    if args.write:
        write_section(result)


def write_section(text: str) -> None:
    doc = ROOT / "docs" / "performance.md"
    start, end = "<!-- firstpaint:start -->", "<!-- firstpaint:end -->"
    content = doc.read_text(encoding="utf-8")
    section = f"{start}\n## First paint on a slow phone (`bench/firstpaint.py`)\n\n{text}\n{end}"
    if start in content:
        before, rest = content.split(start, 1)
        content = before + section + rest.split(end, 1)[1]
    else:
        content = content.rstrip() + "\n\n" + section + "\n"
    doc.write_text(content, encoding="utf-8")


if __name__ == "__main__":
    main()
