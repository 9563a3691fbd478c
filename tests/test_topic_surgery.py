"""Moderators merging two topics about the same question, and splitting a side thread off."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    AuditEntry,
    Category,
    Post,
    PostVote,
    Topic,
    TopicAccess,
    TopicKind,
    TopicRead,
)
from forum.permissions import PermissionDenied
from forum.services import posting, read_state, reading, topic_areas, votes
from forum.services.search import similar_topics
from forum.services.topic_surgery import (
    ModerationError,
    merge_topics,
    resolve_merged,
    split_topic,
)
from tests.factories import make_post, make_topic, make_user

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def later(topic: Topic, minutes: int) -> datetime:
    return topic.created_at + timedelta(minutes=minutes)


def posts_of(topic: Topic, order=Post.number) -> list[Post]:
    db.session.expire_all()
    return list(db.session.scalars(select(Post).where(Post.topic_id == topic.id).order_by(order)))


def bodies(posts: list[Post]) -> list[str]:
    return [p.body for p in posts]


def assert_well_formed(topic: Topic) -> None:
    """Numbered 1..N, top-level posts at depth 0, every path its parent's path plus its number."""
    posts = posts_of(topic)
    assert [p.number for p in posts] == list(range(1, len(posts) + 1))
    by_id = {p.id: p for p in posts}
    for post in posts:
        if post.parent_id is None:
            assert (post.path, post.depth) == (f"{post.number:06d}", 0)
        else:
            parent = by_id[post.parent_id]
            assert parent.number < post.number
            assert post.path == f"{parent.path}/{post.number:06d}"
            assert post.depth == parent.depth + 1


@pytest.fixture
def two_threads(member, other_member, safety):
    """Two topics on one question, written at interleaved times, with nested replies."""
    target = make_topic(
        safety, author=member, title="Membership inference on RAG", body="Target opens", now=at(0)
    )
    source = make_topic(
        safety,
        author=other_member,
        title="Can retrieval leak membership?",
        body="Source opens",
        now=at(5),
    )
    t1 = make_post(target, author=other_member, body="t1", now=at(10))
    s1 = make_post(source, author=member, body="s1", now=at(15))
    make_post(target, author=member, body="t1.1", parent=t1, now=at(20))
    s11 = make_post(source, author=other_member, body="s1.1", parent=s1, now=at(25))
    make_post(source, author=member, body="s1.1.1", parent=s11, now=at(30))
    make_post(target, author=other_member, body="t2", now=at(35))
    gone = make_post(source, author=member, body="s2 (deleted)", now=at(40))
    posting.delete_post(member, gone)
    return target, source


# --- Merging -------------------------------------------------------------------------------------


def test_moderator_merges_a_topic_and_every_post_lands_once_in_time_order(moderator, two_threads):
    target, source = two_threads
    before = {
        p.id: (p.author_id, p.body, p.created_at) for p in posts_of(target) + posts_of(source)
    }

    merge_topics(moderator, source, target, reason="Same question")

    merged = posts_of(target)
    assert posts_of(source) == []
    assert sorted(p.id for p in merged) == sorted(before)
    assert {p.id: (p.author_id, p.body, p.created_at) for p in merged} == before
    assert bodies(merged) == [
        "Target opens",
        "Source opens",
        "t1",
        "s1",
        "t1.1",
        "s1.1",
        "s1.1.1",
        "t2",
        "s2 (deleted)",
    ]
    assert merged[-1].is_deleted
    assert_well_formed(target)


def test_merged_threads_keep_their_replies_under_the_posts_they_answer(moderator, two_threads):
    target, source = two_threads

    merge_topics(moderator, source, target)

    thread = posts_of(target, order=Post.path)
    assert [(p.body, p.depth) for p in thread] == [
        ("Target opens", 0),
        ("Source opens", 0),  # the other opening post is now a top-level reply
        ("t1", 0),
        ("t1.1", 1),
        ("s1", 0),
        ("s1.1", 1),
        ("s1.1.1", 2),
        ("t2", 0),
        ("s2 (deleted)", 0),
    ]
    by_body = {p.body: p for p in thread}
    assert by_body["Source opens"].parent_id is None
    assert by_body["s1.1.1"].parent_id == by_body["s1.1"].id
    assert by_body["s1.1.1"].path == "000004/000006/000007"


def test_replies_written_at_the_same_moment_keep_the_older_topics_first(
    moderator, member, other_member, safety
):
    older = make_topic(safety, author=member, body="Older opens", now=at(0))
    newer = make_topic(safety, author=other_member, body="Newer opens", now=at(1))
    make_post(newer, author=member, body="newer reply", now=at(5))
    make_post(older, author=other_member, body="older reply", now=at(5))

    merge_topics(moderator, older, newer)

    assert bodies(posts_of(newer)) == ["Newer opens", "Older opens", "older reply", "newer reply"]


def test_a_merged_topic_points_to_the_topic_that_holds_its_posts(
    moderator, member, safety, two_threads
):
    target, source = two_threads
    third = make_topic(safety, author=member, title="RAG privacy, again")

    merge_topics(moderator, source, target)
    merge_topics(moderator, target, third)

    assert source.merged_into_id == target.id
    assert resolve_merged(source).id == third.id
    assert resolve_merged(target).id == third.id
    assert resolve_merged(third).id == third.id


def test_following_merges_stops_when_they_loop(member, safety):
    first = make_topic(safety, author=member)
    second = make_topic(safety, author=member)
    first.merged_into_id, second.merged_into_id = second.id, first.id
    db.session.commit()

    assert resolve_merged(first).id == second.id


def test_merging_recounts_replies_votes_and_the_latest_post(
    moderator, member, other_member, safety, two_threads
):
    target, source = two_threads
    voter = make_user(display_name="Vera Voter")
    by_body = {p.body: p for p in posts_of(target) + posts_of(source)}
    votes.set_vote(voter, by_body["s1.1"], up=True)
    votes.set_vote(voter, by_body["t1"], up=True)
    votes.set_vote(voter, by_body["Source opens"], up=True)
    read_state.mark_read(other_member, source, posts_of(source))
    topics_in_safety = safety.topic_count

    merge_topics(moderator, source, target)

    db.session.expire_all()
    assert target.reply_count == 7  # 8 replies, one of them deleted
    assert target.last_post_number == 9
    assert target.vote_count == 3
    assert (target.last_post_at, target.last_poster_id) == (at(35), other_member.id)  # "t2"
    assert (source.reply_count, source.last_post_number, source.vote_count) == (0, 0, 0)
    assert db.session.get(Post, by_body["s1.1"].id).vote_count == 1
    assert db.session.scalar(select(func.count()).select_from(PostVote)) == 3
    assert db.session.get(Category, safety.id).topic_count == topics_in_safety - 1
    assert db.session.scalars(select(TopicRead).where(TopicRead.topic_id == source.id)).all() == []


def test_permalinks_of_moved_posts_lead_to_their_page_of_the_merged_topic(
    client, moderator, member, other_member, safety
):
    target = make_topic(safety, author=member, now=at(0))
    source = make_topic(safety, author=other_member, now=at(1))
    for minute in range(2, 50, 2):
        make_post(target, author=other_member, body=f"target at {minute}", now=at(minute))
        make_post(source, author=member, body=f"source at {minute + 1}", now=at(minute + 1))
    late = make_post(source, author=member, body="The last word", now=at(60))

    merge_topics(moderator, source, target)

    thread = posts_of(target, order=Post.path)
    for position, post in enumerate(thread):
        assert reading.page_of_post(post) == position // reading.POSTS_PER_PAGE + 1
    late = db.session.get(Post, late.id)
    assert reading.page_of_post(late) == 3
    response = client.get(f"/p/{late.id}")
    assert response.status_code == 302
    assert response.location.endswith(f"/t/{target.id}/{target.slug}?page=3#post-{late.id}")
    assert "The last word" in client.get(response.location).get_data(as_text=True)


def test_search_finds_the_merged_topic_and_forgets_the_one_merged_away(moderator, two_threads):
    target, source = two_threads

    merge_topics(moderator, source, target)

    def similar(title: str) -> list[int]:
        return [t.id for t, _ in similar_topics(title, viewer=moderator)]

    assert similar("Membership inference on RAG") == [target.id]
    assert similar("Can retrieval leak membership?") == []


def test_an_accepted_answer_moves_only_into_a_question_without_one(
    moderator, member, other_member, safety
):
    def answered_question(title: str) -> tuple[Topic, Post]:
        question = make_topic(safety, author=member, kind=TopicKind.QUESTION, title=title)
        answer = make_post(question, author=other_member, body="Use LiRA.")
        votes.accept_answer(member, answer)
        return question, answer

    source, answer = answered_question("Which attack first?")
    open_question = make_topic(safety, author=member, kind=TopicKind.QUESTION)
    merge_topics(moderator, source, open_question)
    assert open_question.accepted_post_id == answer.id

    source, _answer = answered_question("Which attack is strongest?")
    discussion = make_topic(safety, author=member)
    merge_topics(moderator, source, discussion)
    assert discussion.accepted_post_id is None
    assert source.accepted_post_id is None


def test_moderator_cannot_merge_a_topic_into_itself_or_into_one_merged_away(
    moderator, member, safety, two_threads
):
    target, source = two_threads
    elsewhere = make_topic(safety, author=member)

    with pytest.raises(ModerationError, match="into itself"):
        merge_topics(moderator, target, target)
    merge_topics(moderator, source, target)
    with pytest.raises(ModerationError, match="merged into another one"):
        merge_topics(moderator, elsewhere, source)
    with pytest.raises(ModerationError, match="already merged"):
        merge_topics(moderator, source, elsewhere)
    assert len(posts_of(elsewhere)) == 1
    assert db.session.get(Topic, elsewhere.id).merged_into_id is None


def test_restricted_topics_are_not_merged_before_their_embargo_ends(moderator, member, safety):
    hazardous = make_topic(safety, author=member, title="A working jailbreak")
    public = make_topic(safety, author=member)
    hazardous.is_restricted, hazardous.embargo_until = True, datetime.now(UTC) + timedelta(days=9)
    db.session.commit()

    with pytest.raises(ModerationError, match="embargo"):
        merge_topics(moderator, hazardous, public)
    with pytest.raises(ModerationError, match="embargo"):
        merge_topics(moderator, public, hazardous)


def test_merging_is_written_in_the_audit_log(moderator, two_threads):
    target, source = two_threads

    merge_topics(moderator, source, target, reason="Same question, asked twice")

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "topic.merge"))
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        moderator.id,
        "topic",
        source.id,
    )
    assert entry.reason == "Same question, asked twice"
    assert entry.public == {"into": target.id}


# --- Splitting -----------------------------------------------------------------------------------


@pytest.fixture
def side_thread(member, other_member, topic):
    """A topic whose second reply started a side discussion, three replies deep."""
    make_post(topic, author=other_member, body="r1", now=later(topic, 10))
    side = make_post(topic, author=other_member, body="side", now=later(topic, 20))
    make_post(topic, author=member, body="r3", now=later(topic, 30))
    side1 = make_post(topic, author=member, body="side.1", parent=side, now=later(topic, 40))
    make_post(topic, author=other_member, body="r5", now=later(topic, 50))
    make_post(
        topic,
        author=other_member,
        body="side.1.1",
        parent=side1,
        now=later(topic, 60),
    )
    make_post(topic, author=member, body="side.2", parent=side, now=later(topic, 70))
    return side


def test_moderator_splits_a_reply_off_with_all_its_sub_replies(
    moderator, other_member, safety, topic, side_thread
):
    topics_in_safety = db.session.get(Category, safety.id).topic_count

    new = split_topic(moderator, topic, [side_thread.id], title="Refusals in other languages")

    assert bodies(posts_of(topic)) == ["What do we know about this?", "r1", "r3", "r5"]
    assert [(p.body, p.depth) for p in posts_of(new, order=Post.path)] == [
        ("side", 0),
        ("side.1", 0),  # answered the post that is now the opening post: a top-level reply
        ("side.1.1", 1),
        ("side.2", 0),
    ]
    assert_well_formed(topic)
    assert_well_formed(new)
    assert (new.title, new.kind, new.category_id) == (
        "Refusals in other languages",
        TopicKind.DISCUSSION,
        safety.id,
    )
    assert new.author_id == other_member.id
    assert (topic.reply_count, topic.last_post_number) == (3, 4)
    assert (new.reply_count, new.last_post_number) == (3, 4)
    assert new.last_post_at == later(topic, 70)
    assert db.session.get(Category, safety.id).topic_count == topics_in_safety + 1
    found = similar_topics("Refusals in other languages", viewer=moderator)
    assert [t.id for t, _ in found] == [new.id]


def test_the_earliest_of_several_chosen_replies_opens_the_new_topic(
    moderator, member, other_member, topic
):
    first = make_post(topic, author=other_member, body="first", now=later(topic, 10))
    make_post(topic, author=member, body="stays", now=later(topic, 20))
    answer = make_post(topic, author=member, body="answer", parent=first, now=later(topic, 30))
    last = make_post(topic, author=member, body="last", now=later(topic, 40))
    voter = make_user(display_name="Vera Voter")
    votes.set_vote(voter, last, up=True)
    votes.set_vote(voter, answer, up=True)

    new = split_topic(moderator, topic, [last.id, answer.id], title="A side question")

    assert [(p.body, p.parent_id, p.depth) for p in posts_of(new)] == [
        ("answer", None, 0),
        ("last", None, 0),
    ]
    assert new.author_id == member.id
    assert (new.vote_count, topic.vote_count) == (2, 0)
    assert bodies(posts_of(topic)) == ["What do we know about this?", "first", "stays"]


def test_moderator_can_split_into_another_area(moderator, topic, side_thread):
    privacy = topic_areas.get_category("privacy")

    new = split_topic(moderator, topic, [side_thread.id], title="Side", category=privacy)

    assert new.category_id == privacy.id


def test_moderator_cannot_split_off_the_opening_post_nothing_or_other_topics_posts(
    moderator, member, safety, topic, side_thread
):
    opening = posts_of(topic)[0]
    elsewhere = make_post(make_topic(safety, author=member), author=member)

    with pytest.raises(ModerationError, match="opening post"):
        split_topic(moderator, topic, [opening.id, side_thread.id], title="Everything")
    with pytest.raises(ModerationError, match="at least one"):
        split_topic(moderator, topic, [], title="Nothing")
    with pytest.raises(ModerationError, match="title"):
        split_topic(moderator, topic, [side_thread.id], title="   ")
    with pytest.raises(ModerationError, match="Only replies of this topic"):
        split_topic(moderator, topic, [elsewhere.id], title="Not ours")
    assert len(posts_of(topic)) == 8


def test_a_side_thread_split_from_a_restricted_topic_stays_restricted(
    moderator, other_member, topic, side_thread
):
    topic.is_restricted, topic.embargo_until = True, datetime.now(UTC) + timedelta(days=9)
    db.session.add(TopicAccess(topic_id=topic.id, user_id=other_member.id))
    db.session.commit()

    new = split_topic(moderator, topic, [side_thread.id], title="Still under embargo")

    assert (new.is_restricted, new.embargo_until) == (True, topic.embargo_until)
    assert db.session.get(TopicAccess, (new.id, other_member.id)) is not None


def test_splitting_is_written_in_the_audit_log(moderator, topic, side_thread):
    moved = sorted(p.id for p in posts_of(topic) if p.path.startswith(side_thread.path))

    new = split_topic(moderator, topic, [side_thread.id], title="Side", reason="Off topic here")

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "topic.split"))
    assert (entry.actor_id, entry.target_type, entry.target_id) == (moderator.id, "topic", topic.id)
    assert entry.reason == "Off topic here"
    assert entry.public == {"new_topic": new.id, "posts": moved}


# --- Who may ------------------------------------------------------------------------------------


def test_members_cannot_merge_or_split_topics(member, safety, topic, side_thread):
    other = make_topic(safety, author=member)

    with pytest.raises(PermissionDenied):
        merge_topics(member, other, topic)
    with pytest.raises(PermissionDenied):
        split_topic(member, topic, [side_thread.id], title="Mine now")
    assert len(posts_of(topic)) == 8
    assert db.session.get(Topic, other.id).merged_into_id is None


def test_admins_can_merge_topics(admin, member, safety, topic):
    other = make_topic(safety, author=member)

    merge_topics(admin, other, topic)

    assert other.merged_into_id == topic.id
