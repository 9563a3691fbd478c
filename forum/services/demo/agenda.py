"""The demo research agenda: items, a closed budget round with results, an open ranked round."""

from __future__ import annotations

from datetime import datetime, timedelta

from forum.extensions import db
from forum.models import AgendaArea, User, VotingMethod
from forum.services import agenda, round_results, voting

AGENDA = [
    ("Can machine unlearning be audited by a third party?", "privacy", "priya"),
    ("Do safety refusals transfer to low-resource languages and dialects?", "safety", "layla"),
    ("How robust are text watermarks to paraphrasing by another model?", "security", "mei"),
    ("What should a model release disclose about memorised personal data?", "privacy", "kwame"),
    ("Can tool-using agents be protected from indirect prompt injection?", "security", "admin"),
]


def seed_agenda(people: dict[str, User], *, now: datetime) -> None:
    """Agenda items, a closed budget round with results, and an open ranked round."""
    items = [
        agenda.propose_item(
            people[who],
            agenda.ItemDraft(
                title=title,
                statement="Members disagree on what is known; the evidence is thin.",
                rationale="Deployed models and regulators depend on the answer.",
                area=AgendaArea(area),
                evidence=["https://arxiv.org/abs/2302.12173"] if area == "security" else [],
            ),
        )
        for title, area, who in AGENDA
    ]
    spring = voting.create_round(
        people["moderator"],
        voting.RoundDraft(
            title="Spring priorities",
            description="Spread 10 points over the questions you think matter most.",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            timezone="Europe/London",
            method=VotingMethod.BUDGET,
            item_ids=[i.id for i in items[:4]],
        ),
    )
    for who, points in (
        ("priya", {0: 5, 3: 5}),
        ("layla", {1: 5, 3: 3, 0: 2}),
        ("kwame", {3: 4, 1: 4, 2: 2}),
        ("mei", {2: 5, 0: 3, 1: 2}),
        ("admin", {0: 4, 1: 4, 3: 2}),
    ):
        voting.cast_ballot(people[who], spring, entries={items[k].id: v for k, v in points.items()})
    spring.opens_at = now - timedelta(days=8)
    spring.closes_at = now - timedelta(days=1)
    db.session.commit()
    round_results.close_due_rounds(now=now)
    autumn = voting.create_round(
        people["moderator"],
        voting.RoundDraft(
            title="Autumn ranking",
            description="Rank the questions: 1 for the one to start first.",
            opens_at=now - timedelta(hours=2),
            closes_at=now + timedelta(days=6),
            timezone="Europe/London",
            method=VotingMethod.RANKED,
            item_ids=[i.id for i in items],
        ),
    )
    voting.cast_ballot(people["priya"], autumn, entries={items[0].id: 1, items[4].id: 2})
