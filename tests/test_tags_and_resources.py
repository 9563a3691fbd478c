"""Moderator-curated tags, and resources whose URL or DOI was already shared."""

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Tag, Topic, TopicKind
from forum.services import posting, tags
from tests.factories import make_topic


@pytest.fixture
def tag_list(moderator):
    return {
        name: tags.create_tag(moderator, name=name)
        for name in (
            "red-teaming",
            "membership-inference",
            "jailbreaks",
            "watermarking",
            "evaluation",
            "data-governance",
        )
    }


def new_topic_form(**overrides) -> dict:
    return {
        "title": "A new paper on extraction",
        "kind": "discussion",
        "body": "Worth reading.",
        **overrides,
    }


def test_moderator_keeps_the_tag_list_and_members_cannot(client, member, moderator):
    client.login(member)
    assert client.post("/tags", data={"name": "jailbreaks"}).status_code == 403
    client.logout()
    client.login(moderator)
    assert (
        client.post("/tags", data={"name": "Jailbreaks", "description": "Attacks"}).status_code
        == 302
    )
    assert db.session.scalar(select(Tag.slug)) == "jailbreaks"
    response = client.post("/tags", data={"name": "jailbreaks"})
    assert response.status_code == 400 and "That tag exists already." in response.get_data(
        as_text=True
    )
    bad = client.post("/tags", data={"name": "!!"})
    assert "Use lower-case letters" in bad.get_data(as_text=True)


def test_author_picks_up_to_five_tags_and_each_tag_has_a_page(client, member, tag_list):
    client.login(member)
    chosen = [tag_list[n].id for n in ("red-teaming", "jailbreaks")]
    assert client.post("/c/safety/new", data=new_topic_form(tags=chosen)).status_code == 302
    topic = db.session.scalar(select(Topic))
    assert sorted(t.slug for t in topic.tags) == ["jailbreaks", "red-teaming"]
    page = client.get("/tags/jailbreaks").get_data(as_text=True)
    assert "A new paper on extraction" in page
    assert "A new paper on extraction" not in client.get("/tags/watermarking").get_data(
        as_text=True
    )
    six = [t.id for t in tag_list.values()]
    response = client.post("/c/safety/new", data=new_topic_form(tags=six, title="Too many"))
    assert response.status_code == 400 and "Choose at most 5 tags." in response.get_data(
        as_text=True
    )


def test_tags_filter_any_list(client, member, tag_list, safety):
    tagged = make_topic(safety, author=member, title="Tagged topic")
    posting.set_tags(tagged, [tag_list["evaluation"].id])
    db.session.commit()
    make_topic(safety, author=member, title="Untagged topic")
    for url in ("/c/safety?tag=evaluation", "/latest?tag=evaluation"):
        page = client.get(url).get_data(as_text=True)
        assert "Tagged topic" in page and "Untagged topic" not in page


def test_resource_topic_shows_a_card_with_the_domain(client, member):
    client.login(member)
    client.post(
        "/c/security/new",
        data=new_topic_form(
            kind="resource",
            resource_url="https://www.arxiv.org/abs/2302.12173v2",
            doi="https://doi.org/10.48550/ARXIV.2302.12173",
        ),
    )
    topic = db.session.scalar(select(Topic))
    assert topic.kind == TopicKind.RESOURCE and topic.doi == "10.48550/arxiv.2302.12173"
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert '<span class="resource-domain">arxiv.org</span>' in page
    assert 'href="https://doi.org/10.48550/arxiv.2302.12173"' in page


def test_a_resource_needs_a_link_or_doi_and_a_bad_doi_is_refused(client, member):
    client.login(member)
    response = client.post("/c/security/new", data=new_topic_form(kind="resource"))
    assert response.status_code == 400
    assert "A resource needs a link or a DOI." in response.get_data(as_text=True)
    response = client.post("/c/security/new", data=new_topic_form(kind="resource", doi="11.1/x"))
    assert "This is not a DOI" in response.get_data(as_text=True)
    assert db.session.scalar(select(Topic)) is None


@pytest.mark.parametrize(
    "again",
    [
        "http://example.org/paper/",
        "https://www.example.org/paper?utm_source=twitter&utm_medium=social",
        "https://EXAMPLE.org/paper#results",
        "https://example.org/paper?fbclid=abc",
    ],
)
def test_sharing_a_url_again_in_another_form_tells_the_author_where(client, member, again):
    client.login(member)
    first = new_topic_form(
        kind="resource", resource_url="https://example.org/paper", title="First share"
    )
    assert client.post("/c/privacy/new", data=first).status_code == 302
    second = new_topic_form(
        kind="resource", resource_url=again, title="Second share", body="Kept body"
    )
    response = client.post("/c/safety/new", data=second)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This link or DOI was shared before:" in page and "First share" in page
    assert "Kept body</textarea>" in page
    assert db.session.query(Topic).count() == 1
    response = client.post("/c/safety/new", data=second | {"confirm_duplicate": "y"})
    assert response.status_code == 302
    assert db.session.query(Topic).count() == 2


def test_sharing_a_doi_again_as_a_doi_org_link_is_caught(client, member):
    client.login(member)
    first = new_topic_form(kind="resource", doi="10.1145/3576915.3616600", title="By DOI")
    client.post("/c/privacy/new", data=first)
    again = new_topic_form(
        kind="resource", title="By link", resource_url="https://doi.org/10.1145/3576915.3616600"
    )
    response = client.post("/c/privacy/new", data=again)
    assert response.status_code == 400 and "By DOI" in response.get_data(as_text=True)
