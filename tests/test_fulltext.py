"""Full-text search: a member finds a thread by its words, in Arabic or English, and only what
they may read (issue 16). Runs on SQLite (FTS5) and PostgreSQL (tsvector): same answers."""

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from forum.extensions import db
from forum.models import TopicKind
from forum.models.types import utcnow
from forum.services import disclosure, fulltext, moderation, posting, topic_areas, topic_surgery
from forum.services.fulltext import SearchFilters, SearchOrder
from forum.services.fulltext import search as full_text_search
from tests.factories import make_post, make_topic, make_user

ANONYMOUS = AnonymousUserMixin()
ARABIC_TITLE = "هجمات استدلال العضوية على النماذج اللغوية"
ARABIC_BODY = "نناقش الْعُضْوِيَّة في البيانات السريرية."


@pytest.fixture
def privacy(app):
    return topic_areas.get_category("privacy")


@pytest.fixture
def security(app):
    return topic_areas.get_category("security")


def found(viewer, text, **kwargs) -> list[int]:
    """The ids of the posts a search shows ``viewer``."""
    results = full_text_search(viewer, text, **kwargs)
    assert not results.error, results.error
    return [hit.post.id for hit in results.hits]


def opening(topic):
    return topic.opening_post if hasattr(topic, "opening_post") else _first(topic)


def _first(topic):
    from sqlalchemy import select

    from forum.models import Post

    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))


@pytest.mark.parametrize(
    "asked",
    [
        "العضوية",
        "العضويه",  # ta marbuta written as ha
        "الْعُضْوِيَّة",  # with its vowel marks
        "استدلال",
        "إستدلال",  # hamza under alef
        "أستدلال",  # hamza over alef
        "اســتدلال",  # tatweel
    ],
)
def test_an_arabic_query_finds_an_arabic_post_however_it_is_written(privacy, member, asked):
    topic = make_topic(privacy, author=member, title=ARABIC_TITLE, body=ARABIC_BODY)
    make_topic(privacy, author=member, title="Differential privacy budgets", body="Epsilon.")

    assert found(member, asked) == [_first(topic).id]


def test_an_english_query_finds_a_post_by_another_form_of_its_words(privacy, member):
    topic = make_topic(
        privacy, author=member, title="Clinical notes", body="We attacked the memorised records."
    )
    make_topic(privacy, author=member, title="Other things", body="Nothing to see.")

    assert found(member, "attacking memorization") == [_first(topic).id]
    assert found(member, "attacks") == [_first(topic).id]
    assert found(member, "defence") == []


def test_a_quoted_phrase_matches_only_the_phrase(privacy, member):
    phrase = make_topic(privacy, author=member, title="A", body="Membership inference on notes.")
    apart = make_topic(privacy, author=member, title="B", body="Inference of membership, later.")

    assert sorted(found(member, "membership inference")) == sorted(
        [_first(phrase).id, _first(apart).id]
    )
    assert found(member, '"membership inference"') == [_first(phrase).id]


def test_a_minus_word_leaves_out_what_has_it(privacy, member):
    clinical = make_topic(privacy, author=member, title="A", body="Unlearning clinical records.")
    web = make_topic(privacy, author=member, title="B", body="Unlearning web text.")

    assert found(member, "unlearning -clinical") == [_first(web).id]
    assert found(member, 'unlearning -"web text"') == [_first(clinical).id]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x" * 50_000, "too_long"),
        ("-word", "nothing"),
        ('"" - -', "nothing"),
        ("the of", "nothing"),
    ],
)
def test_a_query_that_cannot_be_searched_says_why(member, text, reason):
    assert full_text_search(member, text).error == reason


def test_filters_combine(privacy, security, member, other_member):
    then = utcnow() - timedelta(days=30)
    old_question = make_topic(
        privacy, author=member, title="Canary leakage", kind=TopicKind.QUESTION, now=then
    )
    question = make_topic(privacy, author=member, title="Canary leakage", kind=TopicKind.QUESTION)
    discussion = make_topic(privacy, author=other_member, title="Canary leakage")
    elsewhere = make_topic(security, author=member, title="Canary leakage", kind=TopicKind.QUESTION)
    everything = {_first(t).id for t in (old_question, question, discussion, elsewhere)}

    assert set(found(member, "canary")) == everything
    in_privacy = SearchFilters(area="privacy")
    assert set(found(member, "canary", filters=in_privacy)) == everything - {_first(elsewhere).id}
    questions = SearchFilters(area="privacy", kind="question")
    assert set(found(member, "canary", filters=questions)) == {
        _first(old_question).id,
        _first(question).id,
    }
    recent = SearchFilters(
        area="privacy", kind="question", since=(utcnow() - timedelta(days=1)).date()
    )
    assert found(member, "canary", filters=recent) == [_first(question).id]
    by_other = SearchFilters(area="privacy", author=other_member.handle)
    assert found(member, "canary", filters=by_other) == [_first(discussion).id]
    assert found(member, "canary", filters=SearchFilters(area="privacy", answered="answered")) == []
    dated = found(member, "canary", filters=in_privacy, order=SearchOrder.DATE)
    assert dated[-1] == _first(old_question).id


# --- By date: the posts' created_at, not their ids -------------------------------------------


@pytest.fixture
def imported_thread(privacy, member, other_member):
    """Posts about canaries whose ids do not follow their dates: two were imported (written
    long ago, given ids today), as an import from another forum does."""
    now = utcnow()
    topic = make_topic(
        privacy,
        author=member,
        title="Canary audits",
        body="Canary one.",
        now=now - timedelta(days=10),
    )
    posts = [_first(topic)]
    for days, author in [(5, other_member), (400, member), (1, member), (900, other_member)]:
        posts.append(
            make_post(topic, author=author, body="Canary again.", now=now - timedelta(days=days))
        )
    return posts


def newest_first(posts) -> list[int]:
    return [p.id for p in sorted(posts, key=lambda p: (p.created_at, p.id), reverse=True)]


@pytest.mark.parametrize("sort_all", [0, fulltext.SORT_ALL_MATCHES], ids=["bounded", "sorted"])
def test_search_by_date_orders_imported_posts_by_when_they_were_written(
    monkeypatch, member, imported_thread, sort_all
):
    # Both ways of reading the newest: sorting every match, and the bound from the newest ids.
    monkeypatch.setattr(fulltext, "SORT_ALL_MATCHES", sort_all)

    assert found(member, "canary", order=SearchOrder.DATE) == newest_first(imported_thread)


@pytest.mark.parametrize("sort_all", [0, fulltext.SORT_ALL_MATCHES], ids=["bounded", "sorted"])
def test_search_by_date_pages_through_imported_posts_without_repeating_or_missing_one(
    monkeypatch, member, imported_thread, sort_all
):
    monkeypatch.setattr(fulltext, "SORT_ALL_MATCHES", sort_all)
    seen, after = [], None
    for _ in range(len(imported_thread)):
        page = fulltext.search_after(
            member, "canary", filters=SearchFilters(), order=SearchOrder.DATE, after=after, limit=2
        )
        seen += [hit.post.id for hit in page.hits]
        if page.next_key is None:
            break
        after = page.next_key

    assert seen == newest_first(imported_thread)


def test_search_by_date_takes_two_statements_however_many_match(queries, privacy, member):
    make_topic(privacy, author=member, title="Canary audits")
    with queries:
        found(ANONYMOUS, "canary", order=SearchOrder.DATE)
    one, one_count = queries.report(), queries.count
    for _ in range(25):
        make_topic(privacy, author=member, title="Canary audits")
    with queries:
        assert len(found(ANONYMOUS, "canary", order=SearchOrder.DATE)) == fulltext.RESULTS_PER_PAGE
    # A visitor's search (no member directory): the newest by id, then the page.
    assert (one_count, queries.count) == (2, 2), f"one match:\n{one}\n\nmany:\n{queries.report()}"


def test_a_hidden_post_is_found_by_moderators_only(privacy, member, other_member, moderator):
    topic = make_topic(privacy, author=member, title="Watermark removal")
    reply = make_post(topic, author=other_member, body="A recipe for stripping watermarks.")
    moderation.hide_post(moderator, reply, reason="Hazardous detail")

    assert found(member, "stripping") == []
    assert found(ANONYMOUS, "stripping") == []
    assert found(moderator, "stripping") == [reply.id]

    moderation.restore_post(moderator, reply)
    assert found(member, "stripping") == [reply.id]


def test_a_deleted_post_is_found_by_nobody(privacy, member, moderator):
    topic = make_topic(privacy, author=member, title="Watermark removal")
    reply = make_post(topic, author=member, body="Second thoughts about stripping.")
    posting.delete_post(member, reply)

    assert found(member, "stripping") == []
    assert found(moderator, "stripping") == []


def test_a_restricted_topic_is_found_by_those_let_in_and_by_all_once_its_embargo_ends(
    app, member, other_member, moderator
):
    area = next(a for a in disclosure.sensitive_areas())
    topic = make_topic(area, author=member, title="Unpatched jailbreak in a vendor model")
    disclosure.restrict_topic(member, topic, embargo_until=utcnow() + timedelta(days=30))
    stranger = make_user()

    assert found(stranger, "jailbreak") == []
    assert found(ANONYMOUS, "jailbreak") == []
    assert found(member, "jailbreak") == [_first(topic).id]
    assert found(moderator, "jailbreak") == [_first(topic).id]

    disclosure.lift_embargo(moderator, topic)
    assert found(stranger, "jailbreak") == [_first(topic).id]


def test_a_post_waiting_for_review_is_found_by_its_author_and_moderators_only(
    privacy, member, moderator
):
    from forum.services.site_settings import get_settings

    get_settings().first_post_review = True
    db.session.commit()
    topic = make_topic(privacy, author=member, title="Red teaming")
    newcomer = make_user()
    reply = make_post(topic, author=newcomer, body="Probing with multilingual prompts.")
    assert reply.awaiting_review
    assert found(member, "multilingual") == []
    assert found(newcomer, "multilingual") == [reply.id]
    assert found(moderator, "multilingual") == [reply.id]


def test_an_edited_post_is_found_by_its_new_words_not_its_old(privacy, member):
    topic = make_topic(privacy, author=member, title="Evaluation", body="About tokenizers.")
    post = _first(topic)
    posting.edit_post(member, post, body="About watermarking.", title="Watermark evaluation")

    assert found(member, "tokenizers") == []
    assert found(member, "watermarking") == [post.id]
    assert found(member, "evaluation") == [post.id]


def test_a_merged_topic_is_found_in_its_new_place(privacy, security, member, moderator):
    source = make_topic(privacy, author=member, title="Gradients", body="Gradient inversion.")
    target = make_topic(security, author=member, title="Attacks on federated learning")
    moved = _first(source).id
    topic_surgery.merge_topics(moderator, source, target)

    results = full_text_search(member, "inversion")
    assert [hit.post.id for hit in results.hits] == [moved]
    assert results.hits[0].topic.id == target.id
    assert found(member, "inversion", filters=SearchFilters(area="security")) == [moved]
    assert found(member, "inversion", filters=SearchFilters(area="privacy")) == []


def test_a_moved_topic_is_found_in_its_new_area(privacy, security, member, moderator):
    from forum.services import topic_curation

    topic = make_topic(privacy, author=member, title="Prompt injection in agents")
    topic_curation.move_topic(moderator, topic, security)

    assert found(member, "injection", filters=SearchFilters(area="security")) == [_first(topic).id]
    assert found(member, "injection", filters=SearchFilters(area="privacy")) == []


def test_a_split_topic_is_found_in_its_new_place(privacy, member, moderator):
    topic = make_topic(privacy, author=member, title="Unlearning")
    reply = make_post(topic, author=member, body="Side note about quantisation.")
    new = topic_surgery.split_topic(moderator, topic, [reply.id], title="Quantisation effects")

    results = full_text_search(member, "quantisation")
    assert {hit.topic.id for hit in results.hits} == {new.id}


def test_reindex_rebuilds_the_index_from_the_posts(privacy, member, runner):
    topic = make_topic(privacy, author=member, title="Synthetic data", body="Privacy of GANs.")
    db.session.execute(db.text("DELETE FROM post_search"))
    db.session.commit()
    assert found(member, "synthetic") == []

    result = runner.invoke(args=["search", "reindex"])
    assert "posts indexed for full-text search" in result.output
    assert found(member, "synthetic") == [_first(topic).id]


def test_the_search_page_shows_escaped_highlighted_snippets(client, privacy, member):
    make_topic(
        privacy, author=member, title="Scripts", body="An <script>alert(1)</script> jailbreak."
    )
    page = client.get("/search?q=jailbreak").get_data(as_text=True)

    assert "<mark>jailbreak</mark>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_search_page_with_no_results_offers_to_drop_each_filter(client, privacy, member):
    make_topic(privacy, author=member, title="Scripts", body="About jailbreaks.")
    page = client.get("/search?q=jailbreak&area=security&kind=question").get_data(as_text=True)

    assert "Nothing matches that search." in page
    assert "/search?kind=question&amp;q=jailbreak" in page or "kind=question" in page
    assert page.count("search-drop-filters") == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=" + "a" * 50_000, "That search is too long"),
        ("q=--", "There is nothing to search for"),
        ('q="', "There is nothing to search for"),
        ("q=xyz&since=not-a-date&kind=nonsense&status=x&page=-3", "Nothing matches that search."),
    ],
)
def test_bad_search_input_gets_a_page_that_says_why(client, member, query, message):
    response = client.get(f"/search?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_a_nul_in_a_search_is_refused_with_a_reason_not_an_error(client):
    # forum.input_checks refuses control characters in every request, before the view.
    assert client.get("/search?q=a%00b").status_code == 400


def test_every_page_has_the_search_box(client):
    page = client.get("/").get_data(as_text=True)
    assert 'id="header-search"' in page


def test_an_agenda_item_is_found_and_filtered_by_its_status(member, moderator):
    from forum.models import AgendaStatus
    from forum.services import agenda
    from tests.factories import make_agenda_item

    item = make_agenda_item(member, title="Auditing watermark robustness")
    results = full_text_search(member, "watermark")
    assert [hit.agenda_item.id for hit in results.hits if hit.agenda_item] == [item.id]

    proposed = SearchFilters(status="proposed")
    assert [
        h.agenda_item.id for h in full_text_search(member, "watermark", filters=proposed).hits
    ] == [item.id]
    agenda.change_status(moderator, item, AgendaStatus.DECLINED, note="Out of scope.")
    assert full_text_search(member, "watermark", filters=proposed).hits == []


def test_members_are_found_by_name_by_members_only(privacy, member):
    make_user(display_name="Layla Watermark")
    make_topic(privacy, author=member, title="Watermark detection")

    assert [m.display_name for m in full_text_search(member, "watermark").members] == [
        "Layla Watermark"
    ]
    assert full_text_search(ANONYMOUS, "watermark").members == []
