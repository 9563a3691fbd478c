"""Demo content for a fresh install: the areas, an admin, a moderator, members, and threads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    AgendaArea,
    Application,
    ApplicationDiscipline,
    ApplicationState,
    Category,
    Role,
    TopicKind,
    User,
    VotingMethod,
)
from forum.models.types import utcnow
from forum.services import (
    accounts,
    agenda,
    posting,
    round_results,
    site_settings,
    tags,
    topic_areas,
    votes,
    voting,
)

DEMO_DOMAIN = "demo.forum.test"


@dataclass
class DemoLogin:
    email: str
    password: str
    role: str


PEOPLE = [
    # (local part, display name, role, affiliation, department, disciplines, locale)
    (
        "admin",
        "Amira Haddad",
        Role.ADMIN,
        "University of Edinburgh",
        "Informatics",
        "Computer security, Machine learning",
        "en",
    ),
    (
        "moderator",
        "Jonas Weber",
        Role.MODERATOR,
        "ETH Zurich",
        "Computer Science",
        "Privacy, Cryptography",
        "en",
    ),
    (
        "layla",
        "Layla Al-Mansour",
        Role.MEMBER,
        "American University of Beirut",
        "Electrical and Computer Engineering",
        "Natural language processing, Arabic NLP",
        "ar",
    ),
    (
        "priya",
        "Priya Raman",
        Role.MEMBER,
        "University of Edinburgh",
        "School of Law",
        "Law, Data protection",
        "en",
    ),
    (
        "kwame",
        "Kwame Mensah",
        Role.MEMBER,
        "University of Ghana",
        "Philosophy",
        "Ethics, Philosophy of technology",
        "en",
    ),
    (
        "mei",
        "Mei Chen",
        Role.MEMBER,
        "Tsinghua University",
        "Computer Science",
        "Machine learning, Evaluation",
        "en",
    ),
]


def is_seeded() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


def seed_demo(*, now=None) -> list[DemoLogin]:
    """Fill an empty forum with demo people and threads; returns the logins (random passwords)."""
    topic_areas.ensure_default_categories()
    now = now or utcnow()
    logins: list[DemoLogin] = []
    people: dict[str, User] = {}
    for local, name, role, affiliation, department, disciplines, locale in PEOPLE:
        password = secrets.token_urlsafe(12)
        email = f"{local}@{DEMO_DOMAIN}"
        people[local] = accounts.register_user(
            email=email,
            display_name=name,
            password=password,
            role=role,
            affiliation=affiliation,
            department=department,
            disciplines=disciplines,
            locale=locale,
        )
        logins.append(DemoLogin(email, password, role.value))
    # One profile open to visitors, so someone not logged in sees what a member may choose to
    # show; the others keep the default (members only).
    people["priya"].profile_public = True
    db.session.commit()

    areas = {c.slug: c for c in db.session.scalars(select(Category))}
    start = now - timedelta(days=3)

    def at(hours: float):
        return start + timedelta(hours=hours)

    q = posting.create_topic(
        people["priya"],
        areas["privacy"],
        kind=TopicKind.QUESTION,
        title="Can membership inference tell us whether a clinical note was in the training set?",
        body=(
            "We are assessing a fine-tuned model for a hospital partner. Loss-based membership "
            "inference looks weak on **long** clinical notes.\n\n"
            "- Has anyone compared *LiRA* with min-k% probability on domain data?\n"
            "- What false-positive rate would a data protection authority accept as evidence?"
        ),
        now=at(1),
    )
    r1 = posting.post_reply(
        people["mei"],
        q,
        body="Min-k% degrades on paraphrased records. We saw AUC drop from 0.81 to 0.62.",
        now=at(2),
    )
    r2 = posting.post_reply(
        people["moderator"],
        q,
        parent=r1,
        body="Did you calibrate per document length? Long notes dominate the loss otherwise.",
        now=at(3),
    )
    posting.post_reply(
        people["mei"],
        q,
        parent=r2,
        body="Yes, bucketed by length. Table in the appendix.",
        now=at(4),
    )
    posting.post_reply(
        people["kwame"],
        q,
        body="On the evidential question: a regulator will ask what an error *costs* the patient.",
        now=at(5),
    )

    s = posting.create_topic(
        people["layla"],
        areas["safety"],
        kind=TopicKind.DISCUSSION,
        title="تقييم سلامة النماذج اللغوية باللغة العربية",
        body=(
            "معظم معايير تقييم السلامة مكتوبة بالإنجليزية. هل نحتاج إلى مجموعة اختبارات "
            "عربية مستقلة، أم تكفي الترجمة؟\n\n"
            "لاحظنا أن النماذج ترفض الطلبات الضارة بالإنجليزية لكنها تجيب عنها باللهجات العربية."
        ),
        now=at(6),
    )
    a1 = posting.post_reply(
        people["admin"],
        s,
        body="الترجمة وحدها لا تكفي: اللهجات تغيّر المعنى. هل لديكم أمثلة يمكن مشاركتها؟",
        now=at(7),
    )
    posting.post_reply(
        people["layla"],
        s,
        parent=a1,
        body="نعم، سننشر عينة صغيرة بعد مراجعة أخلاقية. Happy to share an English summary too.",
        now=at(8),
    )

    sec = posting.create_topic(
        people["admin"],
        areas["security"],
        kind=TopicKind.RESOURCE,
        resource=posting.Resource(url="https://arxiv.org/abs/2302.12173"),
        title="Reading list: indirect prompt injection against tool-using agents",
        body=(
            "A starting list; add what is missing in replies.\n\n"
            "| Paper | Year | Focus |\n|---|---|---|\n"
            "| Not what you've signed up for | 2023 | Indirect injection |\n"
            "| Ignore previous prompt | 2022 | Goal hijacking |\n\n"
            "See also https://arxiv.org/abs/2302.12173"
        ),
        now=at(9),
    )
    posting.post_reply(
        people["kwame"],
        sec,
        body="Could we tag which ones release their attack prompts?",
        now=at(10),
    )
    posting.create_topic(
        people["moderator"],
        areas["meta"],
        kind=TopicKind.DISCUSSION,
        title="Welcome: how this forum works",
        body="Introduce yourself: your institution, your discipline, what you hope to work on.",
        now=at(11),
    )
    posting.create_topic(
        people["priya"],
        areas["research-agenda"],
        kind=TopicKind.QUESTION,
        title="Should machine unlearning claims come with an audit protocol?",
        body="Vendors claim to *unlearn* data on request. What would count as proof?",
        now=at(12),
    )
    _seed_curation(people, question=q, answer=r1, reading_list=sec, arabic=s)
    _seed_applications(people, now=now)
    _seed_agenda(people, now=now)
    return logins


DEMO_TAGS = [
    ("red-teaming", "Probing models for harmful behaviour"),
    ("membership-inference", "Was this record in the training data?"),
    ("jailbreaks", "Getting around a model's safeguards"),
    ("watermarking", "Marking and detecting generated text"),
    ("evaluation", "Benchmarks and how to trust them"),
    ("data-governance", "Consent, provenance and deletion of training data"),
]


def _seed_curation(people: dict[str, User], *, question, answer, reading_list, arabic) -> None:
    """Tags, votes, an accepted answer and a mention, so every feature has something to show."""
    made = {
        slug: tags.create_tag(people["moderator"], name=slug, description=text)
        for slug, text in DEMO_TAGS
    }
    for topic, slugs in (
        (question, ["membership-inference", "evaluation"]),
        (reading_list, ["jailbreaks", "red-teaming"]),
        (arabic, ["evaluation", "red-teaming"]),
    ):
        posting.set_tags(topic, [made[s].id for s in slugs])
    db.session.commit()
    votes.accept_answer(people["priya"], answer)
    for voter in ("priya", "kwame", "layla"):
        votes.set_vote(people[voter], answer, up=True)
    posting.post_reply(
        people["priya"],
        question,
        body=f"@{people['mei'].handle} could you share the length buckets you used?",
    )


AGENDA = [
    ("Can machine unlearning be audited by a third party?", "privacy", "priya"),
    ("Do safety refusals transfer to low-resource languages and dialects?", "safety", "layla"),
    ("How robust are text watermarks to paraphrasing by another model?", "security", "mei"),
    ("What should a model release disclose about memorised personal data?", "privacy", "kwame"),
    ("Can tool-using agents be protected from indirect prompt injection?", "security", "admin"),
]


def _seed_agenda(people: dict[str, User], *, now) -> None:
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


APPLICANTS = [
    # (name, institution, position, disciplines, state)
    (
        "Fatima Zahra Benali",
        "Mohammed V University",
        "Associate Professor",
        ("law", "policy"),
        ApplicationState.SUBMITTED,
    ),
    (
        "Daniel Osei",
        "University of Ghana",
        "Lecturer",
        ("nlp", "linguistics"),
        ApplicationState.SUBMITTED,
    ),
    (
        "Sofia Lindqvist",
        "KTH Royal Institute of Technology",
        "Professor",
        ("security", "cryptography"),
        ApplicationState.INFO_REQUESTED,
    ),
    (
        "Arjun Mehta",
        "ETH Zurich",
        "Postdoctoral researcher",
        ("machine-learning",),
        ApplicationState.APPROVED,
    ),
    ("Chris Doe", "Example Institute", "Student", ("other",), ApplicationState.REJECTED),
]


def _seed_applications(people: dict[str, User], *, now) -> None:
    """Applications in every state, and a window that is open for the next month."""
    settings = site_settings.get_settings()
    settings.applications_open_at = now - timedelta(days=14)
    settings.applications_close_at = now + timedelta(days=30)
    settings.applications_timezone = "Europe/London"
    for i, (name, institution, position, disciplines, state) in enumerate(APPLICANTS):
        local = name.split()[0].lower()
        db.session.add(
            Application(
                full_name=name,
                email=f"{local}@applicant.{DEMO_DOMAIN}",
                institution=institution,
                position=position,
                disciplines=[ApplicationDiscipline(discipline=d) for d in disciplines],
                disciplines_other="Science journalism" if "other" in disciplines else "",
                ai_experience="Published on evaluation of large language models since 2021.",
                statement="I would like to help prioritise research on privacy attacks.",
                state=state,
                token_hash=secrets.token_hex(32),
                submitted_at=now - timedelta(days=10 - i),
                decided_at=now - timedelta(days=2) if state in DECIDED else None,
                decided_by_id=people["moderator"].id if state in DECIDED else None,
                decision_note="Please apply again once you have research experience with AI."
                if state == ApplicationState.REJECTED
                else "",
            )
        )
    db.session.commit()


DECIDED = (ApplicationState.APPROVED, ApplicationState.REJECTED)
