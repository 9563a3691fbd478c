"""Questions with accepted answers, and upvotes that can never be cast twice."""

import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Post, PostVote, Topic, TopicKind
from forum.services import posting, votes
from tests.factories import PASSWORD, make_post, make_topic, make_user


def ask(safety, author):
    return make_topic(safety, author=author, kind=TopicKind.QUESTION, title="Which MIA is best?")


def test_asker_accepts_an_answer_and_it_shows_right_below_the_question(
    client, member, other_member, safety
):
    question = ask(safety, member)
    make_post(question, author=other_member, body="Try LiRA first.")
    answer = make_post(question, author=other_member, body="Use the min-k% method.")
    client.login(member)
    assert client.post(f"/p/{answer.id}/accept").status_code == 302
    db.session.refresh(question)
    assert question.accepted_post_id == answer.id
    page = client.get(f"/t/{question.id}/{question.slug}?page=1").get_data(as_text=True)
    opening_end = page.index('id="post-', page.index('class="post depth-0 post-opening'))
    accepted_block = page.index('class="accepted-answer"')
    first_reply = page.index("Try LiRA first.")
    assert opening_end < accepted_block < first_reply
    assert "Use the min-k% method." in page[accepted_block:first_reply]


def test_changing_the_accepted_answer_moves_it(client, member, other_member, safety):
    question = ask(safety, member)
    first = make_post(question, author=other_member, body="First answer")
    second = make_post(question, author=other_member, body="Second answer")
    client.login(member)
    client.post(f"/p/{first.id}/accept")
    client.post(f"/p/{second.id}/accept")
    db.session.refresh(question)
    assert question.accepted_post_id == second.id
    client.post(f"/p/{second.id}/unaccept")
    db.session.refresh(question)
    assert question.accepted_post_id is None


def test_only_the_asker_or_a_moderator_may_accept(client, member, other_member, moderator, safety):
    question = ask(safety, member)
    answer = make_post(question, author=other_member)
    client.login(other_member)
    response = client.post(f"/p/{answer.id}/accept")
    assert response.status_code == 403
    assert "Only the person who asked, or a moderator" in response.get_data(as_text=True)
    client.logout()
    client.login(moderator)
    assert client.post(f"/p/{answer.id}/accept").status_code == 302


def test_discussions_have_no_accepted_answers(client, member, other_member, topic):
    reply = make_post(topic, author=other_member)
    client.login(member)
    assert client.post(f"/p/{reply.id}/accept").status_code == 403


def test_lists_filter_answered_and_unanswered_questions(client, member, other_member, safety):
    answered = ask(safety, member)
    answer = make_post(answered, author=other_member)
    votes.accept_answer(member, answer)
    make_topic(safety, author=member, kind=TopicKind.QUESTION, title="Still open question")
    make_topic(safety, author=member, title="A discussion, not a question")
    unanswered = client.get("/c/safety?status=unanswered").get_data(as_text=True)
    assert "Still open question" in unanswered and "Which MIA is best?" not in unanswered
    assert "A discussion, not a question" not in unanswered
    answered_page = client.get("/latest?status=answered").get_data(as_text=True)
    assert "Which MIA is best?" in answered_page and "Still open question" not in answered_page


def test_member_upvotes_and_takes_it_back(client, member, other_member, topic):
    reply = make_post(topic, author=other_member)
    client.login(member)
    client.post(f"/p/{reply.id}/vote", data={"up": "1"})
    client.post(f"/p/{reply.id}/vote", data={"up": "1"})  # a repeat changes nothing
    db.session.refresh(reply)
    assert reply.vote_count == 1
    assert db.session.get(Topic, topic.id).vote_count == 1
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    assert 'aria-pressed="true"' in page
    client.post(f"/p/{reply.id}/vote", data={"up": "0"})
    db.session.refresh(reply)
    assert reply.vote_count == 0 and db.session.scalar(select(PostVote)) is None


def test_nobody_votes_on_their_own_post(client, member, topic):
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    client.login(member)
    response = client.post(f"/p/{opening.id}/vote", data={"up": "1"})
    assert response.status_code == 403
    assert "You cannot vote on your own post." in response.get_data(as_text=True)


def test_counts_stay_right_after_a_post_is_deleted(client, member, other_member, moderator, topic):
    kept = make_post(topic, author=other_member, body="kept")
    gone = make_post(topic, author=other_member, body="gone")
    for voter in (member, moderator):
        votes.set_vote(voter, kept, up=True)
        votes.set_vote(voter, gone, up=True)
    assert db.session.get(Topic, topic.id).vote_count == 4
    posting.delete_post(other_member, gone)
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).vote_count == 2
    assert kept.vote_count == 2
    client.login(member)
    assert client.post(f"/p/{gone.id}/vote", data={"up": "0"}).status_code == 403
    assert db.session.get(Topic, topic.id).vote_count == 2


def test_lists_sort_by_most_votes_and_top_of_the_week(client, member, other_member, safety):
    quiet = make_topic(safety, author=member, title="Quiet topic")
    popular = make_topic(safety, author=member, title="Popular topic")
    opening = db.session.scalar(select(Post).where(Post.topic_id == popular.id))
    for _ in range(3):
        votes.set_vote(make_user(), opening, up=True)
    make_post(quiet, author=other_member)  # the quiet one has the latest activity
    latest = client.get("/c/safety").get_data(as_text=True)
    assert latest.index("Quiet topic") < latest.index("Popular topic")
    by_votes = client.get("/c/safety?sort=votes").get_data(as_text=True)
    assert by_votes.index("Popular topic") < by_votes.index("Quiet topic")
    top = client.get("/latest?sort=top&period=week").get_data(as_text=True)
    assert top.index("Popular topic") < top.index("Quiet topic")
    newest = client.get("/latest?sort=newest").get_data(as_text=True)
    assert newest.index("Popular topic") < newest.index("Quiet topic")


def _logged_in_opener(base: str, email: str) -> tuple[urllib.request.OpenerDirector, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD})
    opener.open(base + "/login", data=form.encode())
    page = opener.open(base + "/").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return opener, token


def test_parallel_votes_from_one_member_count_once(live_server, member, other_member, topic):
    reply = make_post(topic, author=other_member)
    url = f"{live_server}/p/{reply.id}/vote"  # threads have no app context to load attributes
    voters = [_logged_in_opener(live_server, member.email) for _ in range(8)]
    start = threading.Barrier(len(voters))
    statuses = []

    def vote(opener, token):
        start.wait()
        data = urllib.parse.urlencode({"csrf_token": token, "up": "1"}).encode()
        try:
            statuses.append(opener.open(url, data=data).status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=vote, args=voter) for voter in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * len(voters)  # each followed the redirect back to the post
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PostVote)) == 1
    assert db.session.get(Post, reply.id).vote_count == 1
    assert db.session.get(Topic, topic.id).vote_count == 1
