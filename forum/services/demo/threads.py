"""The demo threads: a question with an accepted answer, an Arabic discussion, a reading list,
a welcome topic, and the tags, votes and mention that curate them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Category, TopicKind, User
from forum.services import posting, tags, votes


def seed_threads(people: dict[str, User], *, now: datetime) -> None:
    """Topics and replies over the last three days, then their tags and votes."""
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
