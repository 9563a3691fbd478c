"""The results of a round as a reader sees them: ties share a rank and say so (issue 17)."""

from __future__ import annotations

import html
import re

from forum.services import voting
from tests.factories import close_round, make_agenda_item, make_round, make_user


def test_tied_items_share_a_rank_in_the_table_and_the_chart_with_a_note(client, moderator):
    items = [make_agenda_item(moderator, title=t) for t in ("Alpha", "Beta", "Gamma")]
    round_ = make_round(moderator, items, method="budget", budget=10, per_item_cap=10)
    a, b, c = (i.id for i in items)
    voting.cast_ballot(make_user(), round_, entries={a: 4, b: 4, c: 2})
    voting.cast_ballot(make_user(), round_, entries={a: 3, b: 3, c: 1})
    close_round(round_)
    page = html.unescape(client.get(f"/rounds/{round_.id}").get_data(as_text=True))
    table = page[page.index('class="data-table results-table"') :]
    ranks = re.findall(r'<td class="rank">([^<]*)</td>', table)
    assert ranks == ["=1", "=1", "3"]
    start = page.index('<div class="chart">')  # the header's icons are SVG too
    chart = page[start : page.index("</svg>", start)]
    labels = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", chart)
    assert labels[:3] == ["=1. Alpha", "=1. Beta", "3. Gamma"] or labels[:3] == [
        "=1. Beta",
        "=1. Alpha",
        "3. Gamma",
    ]
    assert "marks a tie: those items have the same score and share the rank." in chart
    assert "“=” marks a tie" in table  # the note under the table too


def test_a_round_without_ties_shows_plain_ranks_and_no_note(client, moderator):
    items = [make_agenda_item(moderator, title=t) for t in ("Alpha", "Beta")]
    round_ = make_round(moderator, items, method="budget", budget=10, per_item_cap=10)
    voting.cast_ballot(make_user(), round_, entries={items[0].id: 5, items[1].id: 2})
    close_round(round_)
    page = html.unescape(client.get(f"/rounds/{round_.id}").get_data(as_text=True))
    assert re.findall(r'<td class="rank">([^<]*)</td>', page) == ["1", "2"]
    assert "marks a tie" not in page


def test_the_results_table_says_it_scrolls_and_can_be_scrolled_by_keyboard(client, moderator):
    items = [make_agenda_item(moderator, title=t) for t in ("Alpha", "Beta")]
    round_ = make_round(moderator, items, method="budget", budget=10, per_item_cap=10)
    voting.cast_ballot(make_user(), round_, entries={items[0].id: 5})
    close_round(round_)
    page = html.unescape(client.get(f"/rounds/{round_.id}").get_data(as_text=True))
    assert 'id="results-scroll-hint"' in page and "“Since last round” is the last column" in page
    assert re.search(r'<div class="table-wrap" tabindex="0" role="region"', page)
