"""`flask seed-demo`: a fresh install has something to look at, and says how to log in."""

from sqlalchemy import select, text

from forum.extensions import db
from forum.models import Application, ApplicationState, Post, Role, Topic, User
from forum.services import accounts


def test_seed_demo_loads_people_threads_and_applications_and_prints_logins(runner, app, tmp_path):
    app.instance_path = str(tmp_path)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    roles = {u.role for u in db.session.scalars(select(User))}
    assert roles == {Role.ADMIN, Role.MODERATOR, Role.MEMBER}
    assert len({u.affiliation for u in db.session.scalars(select(User))}) >= 4
    titles = db.session.scalars(select(Topic.title)).all()
    assert any("\u0600" <= ch <= "\u06ff" for title in titles for ch in title)  # an Arabic topic
    assert db.session.scalar(select(Post).where(Post.depth >= 2)) is not None  # nested replies
    states = set(db.session.scalars(select(Application.state)))
    assert {
        ApplicationState.SUBMITTED,
        ApplicationState.APPROVED,
        ApplicationState.REJECTED,
    } <= states
    # Every printed login works.
    lines = [line.split() for line in result.output.splitlines() if "@" in line]
    assert len(lines) == 6
    for _role, email, password in lines:
        assert accounts.authenticate(email, password) is not None
    again = runner.invoke(args=["seed-demo"])
    assert "already has accounts" in again.output and "admin@" in again.output


def test_search_reindex_rebuilds_the_index_similar_topics_use(runner, member, safety):
    from forum.services.search import similar_topics
    from tests.factories import make_topic

    make_topic(safety, author=member, title="Watermarking generated text")
    db.session.execute(text("DELETE FROM post_search"))
    db.session.commit()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "1 posts indexed" in result.output
    found = similar_topics("Watermarks for generated text", viewer=member)
    assert [t.title for t, _ in found] == ["Watermarking generated text"]
