"""Form fields as assistive technology reads them: no attribute written as the text "None",
and a field with a message says so (aria-invalid, aria-describedby pointing at the message)."""

from __future__ import annotations

import re

import pytest

NONE_ATTRIBUTE = re.compile(r'\s[\w-]+="None"')

FORMS = {
    "visitor": ["/login", "/register", "/apply", "/password/forgot", "/search?q=privacy"],
    "member": ["/c/privacy/new", "/settings/profile", "/agenda/new", "/settings/tokens"],
    "moderator": ["/rounds/new"],
}


@pytest.mark.parametrize("reader", FORMS)
def test_no_field_carries_an_attribute_that_reads_none(client, member, moderator, reader):
    if reader != "visitor":
        client.login(member if reader == "member" else moderator)
    for path in FORMS[reader]:
        response = client.get(path)
        assert response.status_code in (200, 302), path
        page = response.get_data(as_text=True)
        assert not NONE_ATTRIBUTE.findall(page), (path, NONE_ATTRIBUTE.findall(page))


def test_a_field_with_a_message_is_marked_invalid_and_points_at_its_message(client):
    page = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    email = re.search(r'<input[^>]*id="email"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in email
    assert 'aria-describedby="email-error"' in email
    assert 'id="email-error"' in page
    assert not NONE_ATTRIBUTE.findall(page)
