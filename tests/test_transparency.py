"""The public transparency report (issue 14, item 7): figures equal counts over the rows, small
groups never show on their own, every table downloads as CSV, and visitors may read it all."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import Application, ApplicationState, AuditEntry
from forum.models.types import utcnow
from forum.services import moderation, transparency
from tests.factories import make_application, make_post, make_topic, make_user

DAY = timedelta(days=1)


def set_window(client, admin, opens: str, closes: str) -> None:
    client.login(admin)
    response = client.post(
        "/admin/settings",
        data={
            "registration_mode": "application",
            "applications_open_at": opens,
            "applications_close_at": closes,
            "applications_timezone": "UTC",
            "members_only": [],
        },
    )
    assert response.status_code == 302
    client.logout()


def decided(application: Application, state: ApplicationState, after_days: float) -> None:
    application.state = state
    application.decided_at = application.submitted_at + timedelta(days=after_days or 1)


def csv_rows(client, name: str) -> list[dict]:
    response = client.get(f"/transparency/{name}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def window(client, admin):
    """A window that opened 30 days ago, set by the admin (so it is in the public log)."""
    opens = utcnow() - 30 * DAY
    set_window(
        client,
        admin,
        opens.strftime("%Y-%m-%dT%H:%M"),
        (utcnow() + 30 * DAY).strftime("%Y-%m-%dT%H:%M"),
    )
    return opens


def applications_in(window_opens, specs):
    made = []
    for n, (institution, disciplines, state, days) in enumerate(specs):
        application = make_application(
            institution=institution,
            disciplines=disciplines,
            submitted_at=window_opens + timedelta(days=1, hours=n),
        )
        if state is not None:
            decided(application, state, days)
        made.append(application)
    db.session.commit()
    return made


SPECS = [
    # institution (two spellings of one), disciplines, decision, days to decide
    ("University of Edinburgh", ("law",), ApplicationState.APPROVED, 3),
    ("the university of edinburgh", ("law", "nlp"), ApplicationState.REJECTED, 5),
    ("University of Edinburgh.", ("law",), ApplicationState.APPROVED, 10),
    ("University of Edinburgh", ("nlp",), None, None),
    ("Makerere University", ("ethics",), ApplicationState.WITHDRAWN, None),
    ("Universidad de Chile", ("law",), ApplicationState.APPROVED, 8),
]


def test_visitor_reads_the_report_and_its_figures_are_the_rows_counted(client, window):
    made = applications_in(window, SPECS)

    page = client.get("/transparency")
    assert page.status_code == 200
    [row] = csv_rows(client, "applications")

    states = [a.state for a in made]
    waits = [
        (a.decided_at - a.submitted_at).total_seconds() / 86400
        for a in made
        if a.state in (ApplicationState.APPROVED, ApplicationState.REJECTED)
    ]
    assert int(row["received"]) == len(made)
    assert int(row["approved"]) == states.count(ApplicationState.APPROVED)
    assert int(row["rejected"]) == states.count(ApplicationState.REJECTED)
    assert int(row["withdrawn"]) == states.count(ApplicationState.WITHDRAWN)
    assert int(row["pending"]) == states.count(ApplicationState.SUBMITTED)
    assert float(row["median_days"]) == round(statistics.median(waits), 1)
    assert row["window"].startswith(window.strftime("%Y-%m-%dT%H:%M"))


def test_small_groups_are_pooled_and_a_small_pool_shows_no_figures(client, window):
    applications_in(window, SPECS)

    institutions = {r["institution"]: r for r in csv_rows(client, "institutions")}
    # Four applications from Edinburgh under three spellings: one named group.
    [edinburgh] = [name for name in institutions if "Edinburgh" in name]
    assert int(institutions[edinburgh]["received"]) == 4
    # Makerere and Chile, one applicant each, are never named; their pool of 2 shows nothing.
    assert not any("Makerere" in name or "Chile" in name for name in institutions)
    [pool] = [r for name, r in institutions.items() if name.startswith("groups of fewer")]
    assert pool["institution"].endswith("(2)") and pool["received"] == "fewer than 3"

    page = client.get("/transparency").get_data(as_text=True)
    assert "Makerere" not in page and "Universidad de Chile" not in page
    assert "2 groups of fewer than 3 people" in page

    disciplines = {r["discipline"]: r for r in csv_rows(client, "disciplines")}
    assert int(disciplines["Law"]["received"]) == 4  # several disciplines each: rows overlap
    assert not any(name == "Ethics" for name in disciplines)


def test_applications_outside_any_recorded_window_are_counted_apart(client, window):
    early = make_application(submitted_at=window - 10 * DAY)
    applications_in(window, SPECS[:3])
    db.session.commit()

    rows = {r["window"]: r for r in csv_rows(client, "applications")}
    assert int(rows["outside a recorded window"]["received"]) == 1
    assert sum(int(r["received"]) for r in rows.values()) == 4
    assert early.id


def test_moderation_actions_are_counted_by_kind_per_month(client, moderator):
    topic = make_topic(moderation_area(), author=make_user())
    posts = [make_post(topic, author=make_user()) for _ in range(3)]
    for post in posts[:2]:
        moderation.hide_post(moderator, post, reason="Off-topic")
    moderation.restore_post(moderator, posts[0])

    [row] = csv_rows(client, "moderation")
    actions = db.session.query(AuditEntry.action).all()
    assert int(row["post.hide"]) == sum(1 for (a,) in actions if a == "post.hide") == 2
    assert int(row["post.restore"]) == 1
    assert row["month"] == utcnow().strftime("%Y-%m")
    assert "applications.window" not in row  # settings are not moderation


def test_closed_rounds_show_their_turnout(client, member, moderator):
    from forum.services import round_results, voting
    from tests.factories import close_round, make_agenda_item, make_round

    items = [make_agenda_item(member) for _ in range(2)]
    round_ = make_round(moderator, items, method="approval")
    voting.cast_ballot(member, round_, entries={items[0].id: 1})
    round_ = close_round(round_)

    [row] = csv_rows(client, "rounds")
    eligible = round_results.eligible_count(round_)
    assert int(row["voters"]) == 1 and int(row["eligible"]) == eligible
    assert float(row["turnout_percent"]) == round(100 / eligible, 1)
    assert round_.title in client.get("/transparency").get_data(as_text=True)


def test_an_unknown_table_is_missing(client):
    assert client.get("/transparency/users.csv").status_code == 404


def test_the_report_reads_in_arabic(client, window):
    applications_in(window, SPECS)
    client.post("/language", data={"locale": "ar", "next": "/transparency"})
    page = client.get("/transparency").get_data(as_text=True)
    assert "تقرير الشفافية" in page and "Transparency report" not in page


def moderation_area():
    from forum.services import topic_areas

    return topic_areas.get_category("safety")


def test_the_page_links_every_table_and_each_downloads_with_its_header(client, window):
    applications_in(window, SPECS)
    page = client.get("/transparency").get_data(as_text=True)
    report = transparency.transparency_report()
    for name in transparency.TABLES:
        assert f'href="/transparency/{name}.csv"' in page
        header, _rows = transparency.table(report, name)
        body = client.get(f"/transparency/{name}.csv").get_data(as_text=True)
        assert body.splitlines()[0] == ",".join(header)
