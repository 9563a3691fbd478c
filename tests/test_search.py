"""Similar topics: a member about to ask a question is shown the topics that already ask it."""

import math

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import delete, func, select

from forum import create_app
from forum.extensions import db
from forum.models import Post, Topic
from forum.models.search import TopicTerm
from forum.permissions import ANY_MEMBER
from forum.services import posting, topic_areas
from forum.services.search import (
    MAX_SIMILAR_TOPICS,
    index_topic,
    reindex_all,
    similar_topics,
)
from forum.textsearch import MAX_BODY_TERMS, TITLE_WEIGHT, term_weights, terms
from tests.conftest import app_config
from tests.factories import make_post, make_topic

MEMBERSHIP_INFERENCE = "Membership inference attacks on fine-tuned models"
ARABIC_MEMBERSHIP_INFERENCE = "هجمات استدلال العضوية على النماذج اللغوية"

# Other questions of the forum, so that common words ("models") weigh as little as they should.
NEIGHBOURS = [
    ("Training data extraction from large language models", "Has anyone reproduced it?"),
    ("Machine unlearning for LLMs: does it remove data?", "Evaluations look weak."),
    ("Differential privacy in LLM fine-tuning", "Which epsilon do people use?"),
    ("Jailbreaks that transfer between models", "Adversarial suffixes transfer. Why?"),
    ("Cairo workshop on Arabic LLM safety", "Agenda and travel."),
    ("How do I change my email address?", "I moved to another university."),
    ("تقييم متانة رفض النماذج", "كيف نقيس صمود الرفض أمام إعادة الصياغة؟"),
]


@pytest.fixture(scope="module")
def topic_terms_table(database_url: str) -> None:
    """The index's table, in case the session built the schema before this module was imported."""
    app = create_app(app_config(database_url))
    with app.app_context():
        TopicTerm.__table__.create(db.engine, checkfirst=True)
        db.engine.dispose()


@pytest.fixture
def app(app, topic_terms_table):
    return app


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
    """A topic opened and indexed, as create_topic does once it calls index_topic."""
    topic = make_topic(category, author=author, title=title, body=body)
    index_topic(topic.id, title=title, body=body)
    db.session.commit()
    return topic


@pytest.fixture
def neighbours(privacy, member):
    return [make_indexed_topic(privacy, author=member, title=t, body=b) for t, b in NEIGHBOURS]


def found(title: str, body: str = "", **options) -> list[str]:
    options.setdefault("viewer", ANY_MEMBER)
    return [topic.title for topic, _ in similar_topics(title, body, **options)]


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
    assert scores[0] == scores[1] > scores[2] == scores[3] == scores[4]


def test_topic_asking_it_in_its_title_ranks_above_one_that_mentions_it_in_its_body(
    privacy, member, neighbours
):
    in_passing = make_indexed_topic(
        privacy,
        author=member,
        title="Reading list for March",
        body="Three papers on model stealing. Model stealing via logits; stealing model weights.",
    )
    asking = make_indexed_topic(privacy, author=member, title="Model stealing through the API")

    results = similar_topics("Stealing models", viewer=ANY_MEMBER)

    assert [topic for topic, _ in results] == [asking, in_passing]


def test_score_is_query_weight_times_topic_weight_times_rarity(privacy, member, neighbours):
    body = "Fine-tuning on small datasets makes membership inference easier."
    make_indexed_topic(privacy, author=member, title=MEMBERSHIP_INFERENCE, body=body)
    question = "Membership inference on models"
    indexed = len(NEIGHBOURS) + 1
    df = {"membership": 1, "infer": 1, "model": 3}  # "models" is in two neighbours' titles
    stored = term_weights(MEMBERSHIP_INFERENCE, body)
    expected = sum(
        weight * stored[term] * math.log(1 + indexed / df[term])
        for term, weight in term_weights(question, "").items()
    )

    [(_, score)] = similar_topics(question, viewer=ANY_MEMBER)

    # The same number on SQLite and PostgreSQL: computed from the same integers and rounded.
    assert score == round(expected, 6)


def test_finding_similar_topics_takes_two_queries_however_many_are_found(
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
    assert queries.count == 2, f"1 found:\n{one_sql}\n\n5 found:\n{queries.report()}"


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


# --- Keeping the index in step ---------------------------------------------------------------


def test_edited_topic_is_found_by_its_new_words_and_no_longer_by_its_old_ones(
    privacy, member, neighbours
):
    topic = make_indexed_topic(privacy, author=member, title="Watermarking generated text")
    opening_post = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    body = "Fine-tuning makes it easier."

    posting.edit_post(member, opening_post, title=MEMBERSHIP_INFERENCE, body=body)
    index_topic(topic.id, title=MEMBERSHIP_INFERENCE, body=body)
    db.session.commit()

    assert found("Watermarking generated text") == []
    assert found(MEMBERSHIP_INFERENCE) == [MEMBERSHIP_INFERENCE]
    stored = db.session.scalars(select(TopicTerm.term).where(TopicTerm.topic_id == topic.id))
    assert set(stored) == set(term_weights(MEMBERSHIP_INFERENCE, body))


def test_admin_reindexing_rebuilds_the_index_from_titles_and_opening_posts(
    privacy, member, other_member
):
    kept = make_topic(privacy, author=member, title="Canaries for memorisation audits")
    make_post(kept, author=other_member, body="Reply about watermarking generated text.")
    hidden = make_topic(privacy, author=member, title="Poisoning", body="Backdoor triggers here.")
    opening_post = db.session.scalar(select(Post).where(Post.topic_id == hidden.id))
    posting.delete_post(member, opening_post)
    make_topic(privacy, author=member, title="Differential privacy budgets")

    assert reindex_all(batch_size=2) == 3

    assert found("Memorization audits using canaries") == ["Canaries for memorisation audits"]
    assert found("Watermarking generated text") == []  # replies are not indexed
    assert found("Backdoor triggers") == []  # nor a deleted opening post
    assert db.session.scalar(select(func.count()).select_from(TopicTerm)) == sum(
        len(term_weights(title, body))
        for title, body in [
            ("Canaries for memorisation audits", "What do we know about this?"),
            ("Poisoning", ""),
            ("Differential privacy budgets", "What do we know about this?"),
        ]
    )


def test_reindexing_replaces_terms_left_from_earlier_text(privacy, member):
    topic = make_topic(privacy, author=member, title="Canaries for memorisation audits")
    index_topic(topic.id, title="Something else entirely", body="Stale words.")
    db.session.commit()

    reindex_all()

    assert found("Something else entirely") == []
    assert found("Canaries for memorisation audits") == ["Canaries for memorisation audits"]


def test_deleting_a_topic_deletes_its_terms(privacy, member):
    topic = make_indexed_topic(privacy, author=member, title=MEMBERSHIP_INFERENCE)

    db.session.execute(delete(Post).where(Post.topic_id == topic.id))
    db.session.execute(delete(Topic).where(Topic.id == topic.id))
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(TopicTerm)) == 0


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


def test_title_words_weigh_three_times_body_words_and_repeats_weigh_less_and_less():
    weights = term_weights("Prompt injection", "injection injection injection defences")

    assert weights["prompt"] == TITLE_WEIGHT
    assert weights["defenc"] == 1.0
    assert weights["inject"] == pytest.approx(TITLE_WEIGHT + 1 + math.log(3))


def test_only_the_most_frequent_words_of_a_long_body_are_kept():
    rare = [f"word{i}" for i in range(MAX_BODY_TERMS)]
    body = "frequent frequent " + " ".join(rare)

    weights = term_weights("Title", body)

    assert len(weights) == 1 + MAX_BODY_TERMS
    assert "frequent" in weights
    assert rare[-1] not in weights
