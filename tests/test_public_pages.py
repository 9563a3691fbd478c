"""Public pages for the open web (issue 16, point 4): the about page, charter, code of conduct
and privacy notice that admins edit; Open Graph and descriptions on what visitors may read;
robots.txt and the sitemap."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditEntry, Post, PublicPage
from forum.models.types import utcnow
from forum.services import posting, reports, sitemap, topic_areas
from tests.factories import make_agenda_item, make_round, make_topic, make_user
from tests.helpers import field_error

PAGES = {
    "/about": "About",
    "/charter": "Charter: how decisions are made",
    "/code-of-conduct": "Code of conduct",
    "/privacy": "Privacy notice",
}
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class _Head(HTMLParser):
    """The page's <meta> tags (name or property -> content) and its links (href, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.hrefs: list[str] = []
        self.textareas: list[str] = []
        self._in_textarea = False

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if tag == "meta" and "content" in values:
            self.meta[values.get("property") or values.get("name") or ""] = values["content"]
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])
        if tag == "textarea":
            self._in_textarea = True
            self.textareas.append("")

    def handle_endtag(self, tag) -> None:
        if tag == "textarea":
            self._in_textarea = False

    def handle_data(self, data) -> None:
        if self._in_textarea:
            self.textareas[-1] += data


def read(response) -> _Head:
    return read_html(response.get_data(as_text=True))


def read_html(page: str) -> _Head:
    parser = _Head()
    parser.feed(page)
    return parser


def base(app) -> str:
    return app.config["FORUM_BASE_URL"].rstrip("/")


# --- The pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PAGES))
def test_visitor_reads_each_public_page_linked_from_every_footer(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"<h1>{PAGES[path]}</h1>" in page
    assert path in read(client.get("/")).hrefs  # the footer of the home page links it
    assert path in read(client.get("/latest")).hrefs
    meta = read(response).meta
    assert meta["description"] and meta["description"] == meta["og:description"]
    assert meta["og:url"].endswith(path) and meta["og:title"] == PAGES[path]


def test_default_about_page_says_who_runs_the_community_and_what_the_facilitator_does(client):
    page = client.get("/about").get_data(as_text=True)
    assert "Who runs it" in page and "facilitator" in page


def test_admin_edits_the_charter_and_visitors_read_the_new_text_with_its_date(client, app, admin):
    client.login(admin)
    form = client.get("/admin/pages/charter")
    assert form.status_code == 200
    assert "Members vote in rounds" in read(form).textareas[0]  # the default, ready to edit
    response = client.post(
        "/admin/pages/charter",
        data={"body": "## Decisions\n\nBy **majority** of the members who vote."},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/charter")
    client.logout()
    page = client.get("/charter").get_data(as_text=True)
    assert "<h2>Decisions</h2>" in page and "<strong>majority</strong>" in page
    assert "Members vote in rounds" not in page
    assert "Last edited" in page


def test_each_save_of_a_page_is_in_the_public_log_with_its_revision(client, admin):
    client.login(admin)
    client.post("/admin/pages/about", data={"body": "First version."})
    client.post("/admin/pages/about", data={"body": "First version."})  # unchanged: no entry
    client.post("/admin/pages/about", data={"body": "Second version."})
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "page.edit").order_by(AuditEntry.seq)
    ).all()
    assert [json.loads(e.public_details) for e in entries] == [
        {"page": "about", "revision": 1},
        {"page": "about", "revision": 2},
    ]
    assert all(e.actor_id == admin.id for e in entries)
    assert db.session.scalar(select(PublicPage.revision)) == 2
    client.logout()
    log = client.get("/moderation/log").get_data(as_text=True)
    assert "edited the page" in log and 'href="/about"' in log and "(revision 2)" in log
    report = client.get("/transparency/moderation.csv").get_data(as_text=True)
    assert "page.edit" not in report  # editing a page is not moderation


@pytest.mark.parametrize("who", ["member", "moderator"])
def test_member_and_moderator_may_not_edit_a_page(client, request, who):
    person = request.getfixturevalue(who)
    client.login(person)
    assert client.get("/admin/pages/about").status_code == 403
    assert client.post("/admin/pages/about", data={"body": "Taken over."}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PublicPage)) == 0
    assert "Taken over" not in client.get("/about").get_data(as_text=True)


def test_visitor_is_sent_to_log_in_and_an_unknown_page_is_missing(client, admin):
    assert client.get("/admin/pages/about").status_code == 302
    assert client.post("/admin/pages/about", data={"body": "x"}).status_code == 302
    client.login(admin)
    assert client.get("/admin/pages/no-such-page").status_code == 404


def test_edit_without_csrf_token_is_refused(client, admin):
    client.login(admin)
    response = client.post("/admin/pages/about", data={"body": "Sneaky."}, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(PublicPage)) == 0


def test_script_in_a_page_does_not_come_out(client, admin):
    client.login(admin)
    body = 'Hello <script>alert("x")</script> [click](javascript:alert(1)) <img src=x onerror=y>'
    client.post("/admin/pages/privacy", data={"body": body})
    page = client.get("/privacy").get_data(as_text=True)
    assert "<script>alert" not in page and 'href="javascript:' not in page and "<img" not in page
    assert "Hello" in page


def test_admin_previews_a_page_before_saving(client, admin):
    client.login(admin)
    response = client.post("/admin/pages/about", data={"body": "*Draft*", "preview": "1"})
    assert response.status_code == 200 and "<em>Draft</em>" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PublicPage)) == 0


def test_a_page_too_long_is_refused_at_the_field_with_the_text_kept(client, admin):
    client.login(admin)
    body = "word " * 10_000  # 50,000 characters
    response = client.post("/admin/pages/about", data={"body": body})
    assert response.status_code == 400
    assert "Keep it under 30,000 characters." in field_error(response, "body")
    assert read(response).textareas[0].strip() == body.strip()
    assert db.session.scalar(select(func.count()).select_from(PublicPage)) == 0


def test_a_nul_in_a_page_is_refused_at_the_field_with_the_rest_of_the_text_kept(client, admin):
    client.login(admin)
    response = client.post("/admin/pages/about", data={"body": "Our\x00 community\n\nis open."})
    assert response.status_code == 400
    assert "control characters (such as NUL)" in field_error(response, "body")
    assert read(response).textareas[0].strip() == "Our community\n\nis open."
    assert db.session.scalar(select(func.count()).select_from(PublicPage)) == 0


def test_other_forms_still_refuse_a_nul_before_any_view(client, member, topic):
    client.login(member)
    response = client.post(f"/t/{topic.id}/reply", data={"body": "a\x00b"})
    assert response.status_code == 400
    assert "Unreadable characters" in response.get_data(as_text=True)


def test_arabic_reader_sees_the_footer_links_in_arabic(client):
    client.post("/language", data={"locale": "ar", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "مدونة السلوك" in page and "إشعار الخصوصية" in page


# --- Open Graph and descriptions ----------------------------------------------------------------


def test_public_topic_has_a_description_and_open_graph_from_its_opening_post(
    client, app, member, safety
):
    body = "We found that **membership inference** on clinical notes " + "works well " * 40
    found = make_topic(safety, author=member, title="Membership inference on notes", body=body)
    meta = read(client.get(f"/t/{found.id}/{found.slug}")).meta
    assert meta["og:title"] == "Membership inference on notes"
    assert meta["og:type"] == "article"
    assert meta["og:site_name"]
    assert meta["og:url"] == f"{base(app)}/t/{found.id}/{found.slug}"
    description = meta["description"]
    assert description == meta["og:description"]
    assert description.startswith("We found that membership inference on clinical notes works")
    assert "**" not in description and "<" not in description
    assert len(description) <= 200 and description.endswith("…")


def test_a_hidden_opening_post_is_not_the_description(client, member, moderator, safety):
    from forum.services import moderation

    found = make_topic(
        safety, author=member, title="Doxxing thread", body="Her address is 12 X St."
    )
    opening = db.session.scalar(select(Post).where(Post.topic_id == found.id, Post.number == 1))
    moderation.hide_post(moderator, opening, reason="Personal data")
    page = client.get(f"/t/{found.id}/{found.slug}").get_data(as_text=True)
    meta = read_html(page).meta
    assert meta["og:title"] == "Doxxing thread"
    assert "description" not in meta and "og:description" not in meta
    assert "12 X St" not in page


def test_a_moderator_who_sees_a_hidden_opening_post_gets_no_description_of_it_either(
    client, member, moderator, safety
):
    """The card answers for a visitor, whoever reads the page: the first page reuses the opening
    post it shows (issue 15), which a moderator sees even hidden."""
    from forum.services import moderation

    found = make_topic(safety, author=member, title="Doxxing thread", body="Her address is 9 Y St.")
    opening = db.session.scalar(select(Post).where(Post.topic_id == found.id, Post.number == 1))
    moderation.hide_post(moderator, opening, reason="Personal data")
    client.login(moderator)
    page = client.get(f"/t/{found.id}/{found.slug}?page=1").get_data(as_text=True)
    assert "9 Y St" in page  # the moderator reads it on the page ...
    meta = read_html(page).meta
    assert meta["og:title"] == "Doxxing thread"
    assert "description" not in meta and "og:description" not in meta  # ... not in its card


def test_member_reading_a_restricted_topic_gets_no_description_of_it(client, member):
    security = topic_areas.get_category("security")
    secret = posting.create_topic(
        member,
        security,
        title="A working jailbreak",
        body="The exact steps.",
        restricted_until=utcnow() + timedelta(days=30),
    )
    client.login(member)
    response = client.get(f"/t/{secret.id}/{secret.slug}")
    assert response.status_code == 200
    meta = read(response).meta
    assert not {"description", "og:title", "og:description", "og:url"} & set(meta)


def test_members_only_topic_gets_no_open_graph_even_for_a_member(client, member):
    meta_area = topic_areas.get_category("meta")
    meta_area.is_members_only = True
    db.session.commit()
    inside = make_topic(meta_area, author=member, title="Members' business", body="Internal.")
    client.login(member)
    response = client.get(f"/t/{inside.id}/{inside.slug}")
    assert response.status_code == 200
    assert "og:title" not in read(response).meta


def test_agenda_item_and_round_have_their_own_descriptions(client, app, member, moderator):
    item = make_agenda_item(member, title="Can unlearning be verified?")
    meta = read(client.get(f"/agenda/{item.id}")).meta
    assert meta["og:title"] == "Can unlearning be verified?"
    assert meta["og:description"] == item.statement
    assert meta["og:url"] == f"{base(app)}/agenda/{item.id}"
    round_ = make_round(moderator, [item, make_agenda_item(member)], title="Spring priorities")
    round_.description = "Choose  what\nwe research first."
    db.session.commit()
    meta = read(client.get(f"/rounds/{round_.id}")).meta
    assert meta["og:title"] == "Spring priorities"
    assert meta["description"] == "Choose what we research first."
    assert meta["og:url"] == f"{base(app)}/rounds/{round_.id}"


# --- robots.txt and the sitemap -----------------------------------------------------------------


def test_robots_txt_keeps_crawlers_out_of_tools_and_points_to_the_sitemap(client, app):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/moderation", "/settings", "/admin", "/api", "/review", "/search", "/p/"):
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {base(app)}/sitemap.xml" in lines
    assert "Disallow: /" not in lines  # public content stays open


@pytest.fixture
def mixed_world(member, moderator, safety):
    """A public topic and agenda item, and what a visitor may not read: a restricted topic, one
    in a members-only area, a private report, a private profile."""
    security = topic_areas.get_category("security")
    meta_area = topic_areas.get_category("meta")
    meta_area.is_members_only = True
    db.session.commit()
    world = {
        "public": make_topic(safety, author=member, title="Open question on refusals"),
        "restricted": posting.create_topic(
            member,
            security,
            title="Embargoed finding",
            body="Steps.",
            restricted_until=utcnow() + timedelta(days=30),
        ),
        "members_only": make_topic(meta_area, author=member, title="Members only"),
        "report": reports.report_privately(member, safety, title="A leak", body="Look."),
        "item": make_agenda_item(member),
        "private_profile": make_user(display_name="Private Person"),
    }
    world["round"] = make_round(moderator, [world["item"], make_agenda_item(member)])
    return world


def _locs(response) -> list[str]:
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    return [loc.text for loc in root.iter(f"{SITEMAP}loc")]


def test_sitemap_lists_only_what_a_visitor_may_read(client, app, mixed_world):
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{SITEMAP}urlset"
    locs = _locs(response)
    site = base(app)
    public, item, round_ = mixed_world["public"], mixed_world["item"], mixed_world["round"]
    for expected in (
        f"{site}/",
        f"{site}/about",
        f"{site}/privacy",
        f"{site}/c/safety",
        f"{site}/t/{public.id}/{public.slug}",
        f"{site}/agenda/{item.id}",
        f"{site}/rounds/{round_.id}",
    ):
        assert expected in locs
    for hidden in ("restricted", "members_only", "report"):
        assert not any(f"/t/{mixed_world[hidden].id}/" in loc for loc in locs), hidden
    assert f"{site}/c/meta" not in locs
    assert not any(f"/u/{mixed_world['private_profile'].id}" in loc for loc in locs)
    lastmod = {
        url.find(f"{SITEMAP}loc").text: url.find(f"{SITEMAP}lastmod")
        for url in root.iter(f"{SITEMAP}url")
    }
    assert lastmod[f"{site}/t/{public.id}/{public.slug}"].text.startswith(
        public.last_post_at.strftime("%Y-%m-%dT%H:%M")
    )


def test_a_large_sitemap_is_an_index_of_numbered_parts(client, app, mixed_world, monkeypatch):
    whole = set(_locs(client.get("/sitemap.xml")))
    monkeypatch.setattr(sitemap, "URLS_PER_FILE", 4)
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{SITEMAP}sitemapindex"
    parts = _locs(response)
    assert parts[0] == f"{base(app)}/sitemap-1.xml" and len(parts) == -(-len(whole) // 4)
    seen = []
    for part in parts:
        locs = _locs(client.get(part.removeprefix(base(app))))
        assert len(locs) <= 4
        seen += locs
    assert sorted(seen) == sorted(whole)  # every address once, none left out
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404


# --- The migration --------------------------------------------------------------------------------


def test_downgrading_0023_refuses_while_an_admin_edited_page_exists(backend, request, tmp_path):
    from flask_migrate import upgrade
    from sqlalchemy import make_url

    from forum import create_app
    from forum.models import Role
    from forum.services import pages
    from tests.conftest import _worker, app_config, drop_postgres_database, fresh_database_url
    from tests.test_migration_downgrades import flask_db, version

    url = fresh_database_url(backend, f"forum_pages_{_worker(request)}", tmp_path)
    app = create_app(app_config(url))
    with app.app_context():
        upgrade()
        assert flask_db(app, "downgrade", "0021").exit_code == 0  # nothing edited: no question
        assert flask_db(app, "upgrade").exit_code == 0
        pages.edit_page(make_user(role=Role.ADMIN), "about", body="Our own words.")
        head = version()
        result = flask_db(app, "downgrade", "0021")
        assert result.exit_code == 1
        assert "public pages edited by admins: 1" in result.output
        assert version() == head
        assert db.session.scalar(select(PublicPage.body)) == "Our own words."
        db.session.remove()
        db.engine.dispose()
    if backend == "postgresql":
        drop_postgres_database(make_url(url).database)
