"""Similar topics: a member about to ask a question is shown the topics that already ask it.

They come from the full-text index (forum.services.search): titles holding most of the words of
the title being written, among the topics the member may read."""

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from forum.extensions import db
from forum.models import Post
from forum.permissions import ANY_MEMBER
from forum.services import posting, topic_areas
from forum.services.search import (
    MAX_SIMILAR_TOPICS,
    SIMILAR_POOL,
    reindex_posts,
    similar_topics,
)
from forum.textsearch import terms
from tests.factories import make_topic

MEMBERSHIP_INFERENCE = "Membership inference attacks on fine-tuned models"
ARABIC_MEMBERSHIP_INFERENCE = "هجمات استدلال العضوية على النماذج اللغوية"

# Other questions of the forum, so that a question shares a word or two with neighbours.
NEIGHBOURS = [
    ("Training data extraction from large language models", "Has anyone reproduced it?"),
    ("Machine unlearning for LLMs: does it remove data?", "Evaluations look weak."),
    ("Differential privacy in LLM fine-tuning", "Which epsilon do people use?"),
    ("Jailbreaks that transfer between models", "Adversarial suffixes transfer. Why?"),
    ("Cairo workshop on Arabic LLM safety", "Agenda and travel."),
    ("How do I change my email address?", "I moved to another university."),
    ("تقييم متانة رفض النماذج", "كيف نقيس صمود الرفض أمام إعادة الصياغة؟"),
]


@pytest.fixture
def privacy(app):
    return topic_areas.get_category("privacy")


@pytest.fixture
def members_only_area(app):
    area = topic_areas.get_category("research-agenda")
    area.is_members_only = True
    db.session.commit()
    return area


def make_indexed_topic(category, *, author, title: str, body: str = "What do we know?"):
    """A topic opened as members open it: create_topic puts it in the full-text index."""
    return make_topic(category, author=author, title=title, body=body)


@pytest.fixture
def neighbours(privacy, member):
    return [make_indexed_topic(privacy, author=member, title=t, body=b) for t, b in NEIGHBOURS]


def found(title: str, **options) -> list[str]:
    options.setdefault("viewer", ANY_MEMBER)
    return [topic.title for topic, _ in similar_topics(title, **options)]


# --- Finding the same question ---------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Are fine-tuned models vulnerable to membership inference attack?",
        "Fine-tuning a model: attacking it with membership inference",
        "membership inference",
    ],
)
def test_member_asking_in_other_words_is_shown_the_topic_that_asks_it(
    privacy, member, neighbours, question
):
    make_indexed_topic(privacy, author=member, title=MEMBERSHIP_INFERENCE)

    assert found(question) == [MEMBERSHIP_INFERENCE]


@pytest.mark.parametrize(
    "question",
    [
        "هل تنجح هجمةُ إستدلالِ العُضْوِيَّة؟",  # diacritics, hamza under alef, singular, no article
        "استدلال عضويه النماذج",  # no article, ه for ة
        "الهجمات على إستدلال العضويّة",  # article on another word, shadda
        "ﻫﺠﻤﺎﺕ استدلال العضويــــة",  # presentation forms (NFKC) and tatweel
    ],
    ids=["diacritics-hamza-singular", "without-article", "article-shadda", "presentation-forms"],
)
def test_member_asking_in_arabic_written_differently_is_shown_the_topic_that_asks_it(
    privacy, member, neighbours, question
):
    make_indexed_topic(privacy, author=member, title=ARABIC_MEMBERSHIP_INFERENCE)

    assert found(question) == [ARABIC_MEMBERSHIP_INFERENCE]


@pytest.mark.parametrize(
    "question",
    [
        "Privacy of medical records in hospitals",  # one word in common
        "Model evaluation",  # one word, and a common one
        "Best pizza in Toronto",  # nothing in common
        "نماذج التعلم الآلي في الطب",  # one Arabic word in common
        # two words in common out of seven: passing words, not the same question
        "Clinical models for hospital triage: membership of review boards",
    ],
)
def test_member_is_not_shown_topics_that_share_at_most_a_word_with_the_question(
    privacy, member, neighbours, question
):
    make_indexed_topic(privacy, author=member, title=MEMBERSHIP_INFERENCE)
    make_indexed_topic(privacy, author=member, title=ARABIC_MEMBERSHIP_INFERENCE)

    assert found(question) == []


@pytest.mark.parametrize("question", ["", "   ", "How do I do this?", "هل هذا من ذلك؟"])
def test_question_without_any_telling_word_finds_nothing_without_asking_the_database(
    queries, privacy, member, neighbours, question
):
    with queries:
        assert found(question) == []
    assert queries.count == 0, queries.report()


# --- Ranking ---------------------------------------------------------------------------------


def test_member_is_shown_at_most_five_topics_best_first_and_older_first_when_tied(
    privacy, member, neighbours
):
    titles = [
        "Prompt injection through web pages",
        "Prompt injection defences",  # every word of the question
        "Prompt injection in agents using tools",
        "Prompt injection defences",  # the same, asked later
        "Indirect prompt injection",
        "Prompt injection benchmarks",
        "Prompt injection in email assistants",
    ]
    topics = [make_indexed_topic(privacy, author=member, title=t) for t in titles]

    results = similar_topics("Defences against prompt injection", viewer=ANY_MEMBER)

    assert [topic for topic, _ in results] == [topics[i] for i in (1, 3, 0, 2, 4)]
    assert len(results) == MAX_SIMILAR_TOPICS
    scores = [score for _, score in results]
    assert scores == [1.0, 1.0, 0.666667, 0.666667, 0.666667]


def test_topic_that_only_mentions_the_question_in_its_body_is_not_suggested(
    privacy, member, neighbours
):
    make_indexed_topic(
        privacy,
        author=member,
        title="Reading list for March",
        body="Three papers on model stealing. Model stealing via logits; stealing model weights.",
    )
    make_indexed_topic(privacy, author=member, title="Model stealing through the API")

    assert found("Stealing models") == ["Model stealing through the API"]


def test_score_is_the_share_of_the_question_words_the_title_holds(privacy, member, neighbours):
    make_indexed_topic(privacy, author=member, title=MEMBERSHIP_INFERENCE)
    question = "Membership inference on clinical notes"  # membership infer clinic note

    [(_, score)] = similar_topics(question, viewer=ANY_MEMBER)

    assert score == 0.5


def test_finding_similar_topics_takes_one_query_however_many_are_found(
    queries, privacy, member, neighbours
):
    question = "Watermarks for generated images"
    make_indexed_topic(privacy, author=member, title=question)
    with queries:
        one = similar_topics(question, viewer=ANY_MEMBER)
    one_sql = queries.report()
    for _ in range(6):
        make_indexed_topic(privacy, author=member, title=question)
    with queries:
        many = similar_topics(question, viewer=ANY_MEMBER)
        assert [(t.author.display_name, t.category.slug) for t, _ in many]  # already loaded

    assert (len(one), len(many)) == (1, MAX_SIMILAR_TOPICS)
    assert queries.count == 1, f"1 found:\n{one_sql}\n\n5 found:\n{queries.report()}"


def test_a_common_question_ranks_only_the_newest_titles_that_hold_its_words(
    privacy, member, neighbours
):
    # Bounded work: however many topics hold the words, the newest SIMILAR_POOL are ranked.
    oldest = make_indexed_topic(privacy, author=member, title="Prompt injection defences")
    for n in range(SIMILAR_POOL):
        make_indexed_topic(privacy, author=member, title=f"Prompt injection case {n}")

    results = found("Prompt injection defences")

    assert len(results) == MAX_SIMILAR_TOPICS and oldest.title not in results


# --- What is left out ------------------------------------------------------------------------


def test_topic_being_edited_is_not_suggested_as_similar_to_itself(privacy, member, neighbours):
    topic = make_indexed_topic(privacy, author=member, title=MEMBERSHIP_INFERENCE)

    assert found(MEMBERSHIP_INFERENCE, exclude_topic_id=topic.id) == []
    assert found(MEMBERSHIP_INFERENCE, exclude_topic_id=topic.id + 1) == [MEMBERSHIP_INFERENCE]


def test_visitor_is_not_shown_topics_from_areas_hidden_from_them(
    privacy, members_only_area, member, neighbours
):
    make_indexed_topic(members_only_area, author=member, title="Agenda: membership inference")
    make_indexed_topic(privacy, author=member, title=MEMBERSHIP_INFERENCE)
    question = "Membership inference attacks"

    assert found(question, viewer=member) == [MEMBERSHIP_INFERENCE, "Agenda: membership inference"]
    assert found(question, viewer=AnonymousUserMixin()) == [MEMBERSHIP_INFERENCE]


def test_nobody_is_shown_a_restricted_topic_they_may_not_read(
    privacy, member, other_member, moderator, neighbours
):
    from datetime import timedelta

    from forum.models.types import utcnow

    hidden = make_indexed_topic(privacy, author=member, title="Membership inference exploit")
    hidden.is_restricted = True
    hidden.embargo_until = utcnow() + timedelta(days=9)
    db.session.commit()
    question = "Membership inference exploit"

    assert found(question, viewer=other_member) == []
    assert found(question, viewer=AnonymousUserMixin()) == []
    assert found(question, viewer=member) == ["Membership inference exploit"]
    assert found(question, viewer=moderator) == ["Membership inference exploit"]


def test_a_reply_does_not_make_its_topic_similar(privacy, member, other_member, neighbours):
    topic = make_indexed_topic(privacy, author=member, title="Reading list for March")
    posting.post_reply(other_member, topic, body="Membership inference attacks on fine-tuning")

    assert found("Membership inference attacks") == []


# --- Keeping the index in step ---------------------------------------------------------------


def test_edited_topic_is_found_by_its_new_title_and_no_longer_by_its_old_one(
    privacy, member, neighbours
):
    topic = make_indexed_topic(privacy, author=member, title="Watermarking generated text")
    opening_post = db.session.scalar(select(Post).where(Post.topic_id == topic.id))

    posting.edit_post(member, opening_post, title=MEMBERSHIP_INFERENCE, body="Fine-tuning.")

    assert found("Watermarking generated text") == []
    assert found(MEMBERSHIP_INFERENCE) == [MEMBERSHIP_INFERENCE]


def test_admin_reindexing_rebuilds_similar_topics_from_titles(privacy, member):
    make_topic(privacy, author=member, title="Canaries for memorisation audits")
    db.session.execute(db.text("DELETE FROM post_search"))
    db.session.commit()
    assert found("Memorization audits using canaries") == []

    reindex_posts(batch_size=2)

    assert found("Memorization audits using canaries") == ["Canaries for memorisation audits"]


# --- Terms: pure text processing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "term"),
    [
        (["attack", "attacks", "attacking", "attacked"], "attack"),
        (["model", "models", "model's"], "model"),
        (["jailbreak", "jailbreaks", "jailbreaking"], "jailbreak"),
        (["fine-tune", "fine-tuned", "fine-tuning"], "tune"),
        (["policy", "policies"], "polici"),
        (["bias", "biases"], "bias"),
        (["embedding", "embedded"], "embed"),
        (["change", "changing", "changed"], "chang"),
        (["alignment", "aligned", "aligning"], "align"),
        (["memorisation", "memorization"], "memor"),
        (["memorise", "memorised", "memorized", "memorizing"], "memor"),
        (["inference", "infer"], "infer"),
        (["analysis"], "analysi"),
        (["need", "needs"], "need"),
    ],
)
def test_inflections_of_an_english_word_become_one_term(words, term):
    assert {terms(word)[-1] for word in words} == {term}


def test_english_question_words_are_not_terms():
    assert terms("How can I do this, and what should we use? Is it the way to go?") == [
        "use",
        "way",
        "go",
    ]


def test_words_of_any_script_and_numbers_are_kept_and_punctuation_separates_them():
    assert terms("GPT-4o, Llama_3 & हिन्दी (2024) — ＦＵＬＬ ﬁne-tuning") == [
        "gpt",
        "4o",
        "llama",
        "हिन्दी",
        "2024",
        "full",
        "fine",
        "tune",
    ]


@pytest.mark.parametrize(
    ("written", "term"),
    [
        ("العُضْوِيَّة", "عضو"),  # diacritics, article, feminine ending
        ("عضويه", "عضو"),
        ("إستدلال", "استدلال"),  # hamza under alef
        ("أستدلال", "استدلال"),  # hamza over alef
        ("آستدلال", "استدلال"),  # madda
        ("ٱستدلال", "استدلال"),  # wasla
        ("اســـتدلال", "استدلال"),  # tatweel
        ("بالنماذج", "نماذج"),
        ("للنماذج", "نماذج"),
        ("هجمة", "هجم"),
        ("مسؤول", "مسوول"),  # hamza on waw
        ("٢٠٢٤", "2024"),  # Arabic-Indic digits
    ],
)
def test_arabic_spellings_of_one_word_become_one_term(written, term):
    assert terms(written) == [term]


@pytest.mark.parametrize(
    "spellings",
    [("مستوى", "مستوي"), ("هيئة", "هيئه", "هييه"), ("قرآن", "قران"), ("كتاب", "کتاب")],
    ids=["alef-maqsura", "hamza-on-yeh-ta-marbuta", "madda", "persian-kaf"],
)
def test_arabic_spellings_people_use_interchangeably_are_one_term(spellings):
    assert len({tuple(terms(spelling)) for spelling in spellings}) == 1


def test_short_arabic_words_keep_letters_that_look_like_an_article():
    # "ألم" (pain) written without hamza is not the article before "م".
    assert terms("ألم الم") == ["الم", "الم"]


def test_arabic_function_words_are_not_terms_in_any_spelling():
    assert terms("هل إلى الى على علي في مِن ماذا الذي التي أنّ") == []
