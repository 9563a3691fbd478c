"""Profiles are for members unless their owner opens them to visitors (issue 11, item 8)."""

import re

import pytest

from forum.extensions import db
from forum.views import MAX_ID
from tests.factories import make_topic, make_user
from tests.helpers import page_without_tokens

PROFILE_FORM = {
    "display_name": "Maya Member",
    "affiliation": "University of Toronto",
    "timezone": "UTC",
    "locale": "",
}


def public_box(page: str) -> str:
    """The profile form's "visitors may see my profile" checkbox."""
    match = re.search(r'<input[^>]*name="profile_public"[^>]*>', page)
    assert match, "no profile_public checkbox on the page"
    return match.group(0)


def missing_page(client, url: str) -> str:
    """The body of a 404, without the address itself (the page offers to log in and come back)
    and without the CSRF token, which carries the second it was made in."""
    response = client.get(url)
    assert response.status_code == 404, url
    return page_without_tokens(response).replace(url, "<address>")


def test_visitor_gets_the_same_missing_page_for_a_private_profile_as_for_no_one(client, member):
    assert member.profile_public is False  # members only unless the member says otherwise
    private = missing_page(client, f"/u/{member.id}")
    assert private == missing_page(client, "/u/999999")
    assert "Maya Member" not in private and "University of Toronto" not in private


def test_member_sees_a_private_profile(client, member, other_member):
    client.login(other_member)
    response = client.get(f"/u/{member.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Maya Member" in page and "University of Toronto" in page


@pytest.mark.parametrize("user_id", [MAX_ID + 1, 2**63, 99999999999999999999])
@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "member"])
def test_an_id_past_any_database_integer_is_simply_missing(client, member, user_id, logged_in):
    if logged_in:
        client.login(member)
    assert client.get(f"/u/{user_id}").status_code == 404


def test_member_opens_their_profile_to_visitors_and_closes_it_again(client, member):
    client.login(member)
    form = client.get("/settings/profile").get_data(as_text=True)
    assert "Let visitors who are not logged in see my profile" in form
    assert "checked" not in public_box(form)

    response = client.post("/settings/profile", data={**PROFILE_FORM, "profile_public": "y"})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.profile_public is True
    assert "checked" in public_box(client.get("/settings/profile").get_data(as_text=True))
    client.logout()
    response = client.get(f"/u/{member.id}")
    assert response.status_code == 200 and "University of Toronto" in response.get_data(
        as_text=True
    )

    client.login(member)
    assert client.post("/settings/profile", data=PROFILE_FORM).status_code == 302  # box unticked
    db.session.refresh(member)
    assert member.profile_public is False
    client.logout()
    assert client.get(f"/u/{member.id}").status_code == 404


def test_visitor_gets_the_same_missing_page_for_a_private_handle_as_for_an_unknown_one(
    client, member
):
    private = missing_page(client, f"/@{member.handle}")
    assert private == missing_page(client, "/@nobody-by-this-name")


def test_a_handle_leads_members_and_visitors_of_a_public_profile_to_it(client, member):
    other = make_user(display_name="Omar Other")
    client.login(other)
    response = client.get(f"/@{member.handle}")
    assert response.status_code == 302 and response.headers["Location"] == f"/u/{member.id}"
    client.logout()
    member.profile_public = True
    db.session.commit()
    response = client.get(f"/@{member.handle}")
    assert response.status_code == 302 and response.headers["Location"] == f"/u/{member.id}"


def test_visitor_sees_authors_on_topic_lists_linked_only_to_public_profiles(client, member, safety):
    public = make_user(display_name="Priya Public")
    public.profile_public = True
    db.session.commit()
    make_topic(safety, author=member, title="A private author's topic")
    make_topic(safety, author=public, title="A public author's topic")
    page = client.get("/latest").get_data(as_text=True)
    assert "Maya Member" in page and f'href="/u/{member.id}"' not in page
    assert "Priya Public" in page and f'href="/u/{public.id}"' in page
    client.login(make_user())
    page = client.get("/latest").get_data(as_text=True)
    assert f'href="/u/{member.id}"' in page and f'href="/u/{public.id}"' in page
