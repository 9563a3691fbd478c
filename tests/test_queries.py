"""Pages run a fixed number of SQL queries however much data there is (no N+1), and exactly the
number listed in STATEMENTS: a change that adds a statement to a page has to say so here."""

import pytest

from forum.extensions import db
from forum.models import AgendaStatus, Role, TopicKind
from forum.services import posting, reviews, round_results, topic_areas, topic_curation, voting
from tests.factories import make_post, make_topic, make_user

PAGE_QUERY_BUDGET = 10

# Every page's exact statement count, per reader: the one place they are listed.
STATEMENTS = {
    # The topic's first page describes it by the opening post it shows (issue 16), with no
    # statement of its own (issue 15: 5 and 9 before).
    ("topic", "visitor"): 4,
    # A member's page asks for their marks on the shown posts (upvotes, bookmarks, flags: one
    # statement, reading._reader_marks; issue 17).
    ("topic", "member"): 8,
    # A later page reads the opening post's text for the description.
    ("topic, a later page", "visitor"): 5,
    ("topic, a later page", "member"): 9,
    ("area", "visitor"): 6,
    ("area", "member"): 8,
    ("home", "visitor"): 6,
    ("home", "member"): 7,
    ("profile", "member"): 5,
    # The member, the section's count and its page, as on every page the rest (issue 17).
    ("activity", "visitor"): 4,
    ("activity", "member"): 5,
    ("bookmarks", "member"): 4,
    # Papers (issue 18): the member, the count, the page, its authors with their accounts, and
    # the header's unread count.
    ("papers", "member"): 5,
    # The member, the deadlines (one union), their papers, the header's unread count.
    ("paper deadlines", "member"): 4,
    # A member's secret feed of them: the token, its owner, the deadlines, their papers.
    ("paper deadlines feed", "token"): 4,
    # The page of a member's feed address: the member, whether they have one, the unread count.
    ("paper calendar", "member"): 3,
    ("workshop calendar", "member"): 3,
    ("review queue", "moderator"): 9,
    ("application", "moderator"): 9,
    ("institutions", "moderator"): 9,
    ("member directory", "member"): 4,
    ("agenda", "member"): 6,
    # The item's page (issue 18, item 4): the reader, the item (+ its evidence), its timeline's
    # linked sessions, sections and papers (one union), its status changes, what addressed it,
    # the rounds it was on, and the header's unread count.
    ("agenda item", "member"): 8,
    ("open round", "member"): 5,
    ("closed round", "member"): 6,
    ("latest", "member"): 6,
    ("latest top", "member"): 6,
    ("tag", "member"): 6,
    ("latest unanswered", "member"): 5,
    ("latest with pins", "visitor"): 5,
    ("latest with pins", "member"): 6,
    ("home with pins", "visitor"): 6,
    ("home with pins", "member"): 7,
    ("transparency report", "visitor"): 7,
    ("tag index", "member"): 4,
    ("notifications", "member"): 3,
    ("moderation log", "visitor"): 8,
    ("moderation log", "member"): 9,
    # Atom feeds (issue 16): what a visitor reads, whoever asks.
    ("latest feed", "visitor"): 2,
    ("area feed", "visitor"): 3,
    ("tag feed", "visitor"): 3,
    ("agenda feed", "visitor"): 1,
    ("rounds feed", "visitor"): 2,
    ("public page", "visitor"): 2,
    # Workshops (issue 18): the workshop, seat counts with the reader's place, the participants,
    # sessions with their chairs (+2 for agenda items, topics), what came out of them (one union
    # under the readers' rules), the reader, the unread count, and whether they hold a seat (the
    # online link's rule).
    ("workshop", "member"): 10,
    # The reader, the count, the page, the unread count, and whether an admin let them organise.
    ("workshops", "member"): 5,
    # A member's secret feed: the token, its owner, and the workshops with the online link's
    # rule as a column (its SQL twin), whatever their number.
    ("workshop feed", "token"): 3,
    ("public page", "admin"): 3,
    ("sitemap", "visitor"): 9,
    ("search", "visitor"): 4,
    ("search", "member"): 7,
    # The read API (issue 16); a token is one statement more than a visitor (its lookup).
    ("api topics", "visitor"): 2,
    ("api topic", "visitor"): 3,
    ("api agenda", "visitor"): 1,
    ("api agenda item", "visitor"): 4,
    ("api rounds", "visitor"): 2,
    ("api round", "visitor"): 3,
    ("api topics", "token"): 3,
    ("api topic", "token"): 4,
    ("api agenda", "token"): 2,
    ("api agenda item", "token"): 5,
    ("api rounds", "token"): 3,
    ("api round", "token"): 4,
    # Search: one statement by relevance; by date the newest by id first, then the page.
    ("api search", "visitor"): 1,
    ("api search by date", "visitor"): 2,
    ("api search", "token"): 2,
    ("api search by date", "token"): 3,
}


def expect(page: str, reader: str, count: int, report: str) -> None:
    listed = STATEMENTS[(page, reader)]
    assert count == listed, (
        f"{page} as {reader}: {count} statements, STATEMENTS says {listed}\n{report}"
    )
    assert count <= PAGE_QUERY_BUDGET, report


def grow_topic(topic, people, replies: int) -> None:
    """Replies from several people, a third of them nested, one deep chain, one deleted."""
    parent = None
    for i in range(replies):
        author = people[i % len(people)]
        nested_under = parent if i % 3 else None
        parent = make_post(
            topic,
            author=author,
            body=f"Reply {i} with a [link](https://x.org/{i})",
            parent=nested_under,
        )
    posting.delete_post(parent.author, parent)


def count_page_queries(client, queries, url: str) -> int:
    client.get(url)  # warm: first request loads things like the locale catalogue
    with queries:
        response = client.get(url)
    assert response.status_code == 200
    assert queries.count >= 2, "the query log saw nothing: is it listening to the app's engine?"
    return queries.count


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_topic_page_query_count_does_not_grow_with_posts(client, queries, safety, logged_in):
    people = [make_user() for _ in range(6)]
    small = make_topic(safety, author=people[0], title="Small")
    large = make_topic(safety, author=people[1], title="Large")
    grow_topic(small, people, 4)  # 5 posts
    grow_topic(large, people, 199)  # 200 posts
    if logged_in:
        client.login(people[2])
    reader = "member" if logged_in else "visitor"
    small_count = count_page_queries(client, queries, f"/t/{small.id}/{small.slug}?page=1")
    small_sql = queries.report()
    large_count = count_page_queries(client, queries, f"/t/{large.id}/{large.slug}?page=1")
    assert small_count == large_count, f"5 posts:\n{small_sql}\n\n200 posts:\n{queries.report()}"
    expect("topic", reader, large_count, queries.report())
    deep_count = count_page_queries(client, queries, f"/t/{large.id}/{large.slug}?page=7")
    expect("topic, a later page", reader, deep_count, queries.report())


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_area_and_home_pages_query_counts_do_not_grow_with_topics(client, queries, logged_in):
    people = [make_user() for _ in range(6)]
    privacy = topic_areas.get_category("privacy")
    security = topic_areas.get_category("security")
    for i in range(5):
        make_topic(privacy, author=people[i % 6])
    for i in range(200):
        topic = make_topic(security, author=people[i % 6])
        if i % 10 == 0:
            make_post(topic, author=people[(i + 1) % 6])
    if logged_in:
        client.login(people[0])
    few = count_page_queries(client, queries, "/c/privacy")
    few_sql = queries.report()
    many = count_page_queries(client, queries, "/c/security?page=3")
    assert few == many, f"5 topics:\n{few_sql}\n\n200 topics:\n{queries.report()}"
    reader = "member" if logged_in else "visitor"
    expect("area", reader, many, queries.report())
    home = count_page_queries(client, queries, "/")
    expect("home", reader, home, queries.report())


def test_profile_page_query_count_does_not_grow_with_posts(client, queries, safety):
    people = [make_user() for _ in range(2)]
    topic = make_topic(safety, author=people[0])
    make_post(topic, author=people[0])
    client.login(people[1])  # profiles are for members unless made public
    few = count_page_queries(client, queries, f"/u/{people[0].id}")
    for _ in range(30):
        make_post(topic, author=people[0])
    many = count_page_queries(client, queries, f"/u/{people[0].id}")
    assert few == many, queries.report()
    expect("profile", "member", many, queries.report())


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_activity_page_query_count_does_not_grow_with_activity(client, queries, safety, logged_in):
    from forum.services import votes
    from tests.factories import make_agenda_item

    author, asker = make_user(), make_user()
    author.profile_public = True  # visitors may read it too
    db.session.commit()

    def grow(n: int) -> None:
        for _ in range(n):
            question = make_topic(safety, author=asker, kind=TopicKind.QUESTION)
            votes.accept_answer(asker, make_post(question, author=author))
            make_topic(safety, author=author)
            make_agenda_item(author)

    sections = ["topics", "replies", "answers", "agenda"]
    grow(1)
    if logged_in:
        client.login(asker)
    url = f"/u/{author.id}/activity?section="
    few = {s: count_page_queries(client, queries, url + s) for s in sections}
    few_sql = queries.report()
    grow(49)
    many = {s: count_page_queries(client, queries, url + s + "&page=2") for s in sections}
    assert few == many, f"1 of each:\n{few_sql}\n\n50 of each:\n{queries.report()}"
    for section in sections:
        expect("activity", "member" if logged_in else "visitor", many[section], queries.report())


def test_bookmarks_page_query_count_does_not_grow_with_bookmarks(client, queries, safety):
    from forum.services import bookmarks

    reader, author = make_user(), make_user()
    topic = make_topic(safety, author=author)
    bookmarks.bookmark_post(reader, make_post(topic, author=author))
    client.login(reader)
    few = count_page_queries(client, queries, "/bookmarks")
    few_sql = queries.report()
    for i in range(49):
        other = make_topic(safety, author=make_user() if i % 10 == 0 else author)
        bookmarks.bookmark_post(reader, make_post(other, author=author))
    many = count_page_queries(client, queries, "/bookmarks?page=2")
    assert few == many, f"1 bookmark:\n{few_sql}\n\n50 bookmarks:\n{queries.report()}"
    expect("bookmarks", "member", many, queries.report())


def test_review_queue_query_count_does_not_grow_with_applications(client, queries, moderator):
    from forum.models import ApplicationState
    from tests.factories import make_application

    def grow(n: int) -> None:
        for i in range(n):
            application = make_application(
                institution=f"Institute {i % 7}",
                disciplines=("law", "medicine") if i % 2 else ("statistics",),
                state=ApplicationState.SUBMITTED if i % 3 else ApplicationState.APPROVED,
            )
            if i % 4 == 0:
                reviews.score_application(
                    moderator, application, reviews.Scores(relevance=3, fit=4, breadth=5)
                )

    client.login(moderator)
    grow(3)
    few = count_page_queries(client, queries, "/review?state=all")
    few_sql = queries.report()
    grow(120)
    many = count_page_queries(client, queries, "/review?state=all&page=2")
    assert few == many, f"few:\n{few_sql}\n\nmany:\n{queries.report()}"
    expect("review queue", "moderator", many, queries.report())


def test_application_page_query_count_does_not_grow_with_reviews(client, queries, moderator):
    from tests.factories import make_application, score_application

    application = make_application(institution="Univ. of Edinburgh")
    client.login(moderator)
    score_application(application, reviewers=1)
    few = count_page_queries(client, queries, f"/review/{application.id}")
    few_sql = queries.report()
    score_application(application, reviewers=30)
    many = count_page_queries(client, queries, f"/review/{application.id}")
    assert few == many, f"few:\n{few_sql}\n\nmany:\n{queries.report()}"
    expect("application", "moderator", many, queries.report())


def test_institutions_page_query_count_does_not_grow_with_institutions(client, queries, moderator):
    from forum.services import institution_curation, institutions
    from tests.factories import make_application

    def grow(n: int) -> None:
        for i in range(n):
            make_user(affiliation=f"Institute {i}")
            make_application(institution=f"Institute {i}")
            if i % 2:
                found = institutions.find_institution(f"Institute {i}")
                institution_curation.confirm_institution(
                    moderator, found, name=found.name, domains=f"inst{i}.example"
                )

    client.login(moderator)
    grow(2)
    few = count_page_queries(client, queries, "/moderation/institutions")
    few_sql = queries.report()
    grow(120)
    many = count_page_queries(client, queries, "/moderation/institutions?page=2")
    assert few == many, f"few:\n{few_sql}\n\nmany:\n{queries.report()}"
    expect("institutions", "moderator", many, queries.report())


def test_member_directory_query_count_does_not_grow_with_members(client, queries, member):
    client.login(member)
    few = count_page_queries(client, queries, "/members")
    few_sql = queries.report()
    for i in range(80):
        make_user(affiliation=f"University {i % 9}", disciplines="Law, Ethics")
    many = count_page_queries(client, queries, "/members?page=2")
    assert few == many, f"few:\n{few_sql}\n\nmany:\n{queries.report()}"
    expect("member directory", "member", many, queries.report())


@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "member"])
def test_search_page_query_count_does_not_grow_with_hits(client, queries, safety, logged_in):
    people = [make_user(display_name=f"Canary Person {i}") for i in range(3)]
    make_topic(safety, author=people[0], title="Canary tokens", body="A canary in the data.")
    if logged_in:
        client.login(people[0])
    few = count_page_queries(client, queries, "/search?q=canary")
    few_sql = queries.report()
    for i in range(50):
        topic = make_topic(safety, author=people[i % 3], title=f"Canary study {i}")
        make_post(topic, author=people[(i + 1) % 3], body=f"Canary reply {i}")
    many = count_page_queries(client, queries, "/search?q=canary&area=safety")
    assert few == many, f"few:\n{few_sql}\n\nmany:\n{queries.report()}"
    expect("search", "member" if logged_in else "visitor", many, queries.report())


def test_agenda_and_round_pages_query_counts_do_not_grow(client, queries, member, moderator):
    from datetime import timedelta

    from forum.models.types import utcnow
    from forum.services import agenda
    from tests.factories import make_agenda_item, make_round

    def grow(n_items: int, n_voters: int):
        items = [make_agenda_item(member) for _ in range(n_items)]
        round_ = make_round(moderator, items, method="ranked")
        for v in range(n_voters):
            voter = make_user(affiliation=f"University {v % 5}")
            voting.cast_ballot(voter, round_, entries={items[v % n_items].id: 1})
        closed = make_round(moderator, items, method="budget")
        for v in range(n_voters):
            voting.cast_ballot(make_user(), closed, entries={items[(v + 1) % n_items].id: 3})
        closed.closes_at = utcnow() - timedelta(seconds=1)
        closed.opens_at = closed.closes_at - timedelta(hours=1)
        db.session.commit()
        round_results.close_due_rounds()
        for i in range(2):
            agenda.change_status(
                moderator,
                items[0],
                [AgendaStatus.PRIORITISED, AgendaStatus.IN_PROGRESS][i],
                note="step",
            )
        return items[0], round_, closed

    client.login(member)
    item, open_round, closed_round = grow(2, 2)
    counts = [
        count_page_queries(client, queries, url)
        for url in (
            "/agenda",
            f"/agenda/{item.id}",
            f"/rounds/{open_round.id}",
            f"/rounds/{closed_round.id}",
        )
    ]
    item, open_round, closed_round = grow(12, 40)
    grown = [
        count_page_queries(client, queries, url)
        for url in (
            "/agenda",
            f"/agenda/{item.id}",
            f"/rounds/{open_round.id}",
            f"/rounds/{closed_round.id}",
        )
    ]
    assert counts == grown, queries.report()
    for page, count in zip(
        ("agenda", "agenda item", "open round", "closed round"), grown, strict=True
    ):
        expect(page, "member", count, queries.report())


def test_latest_and_tag_lists_query_counts_do_not_grow_with_topics(client, queries, moderator):
    from forum.services import tags

    tag = tags.create_tag(moderator, name="evaluation")
    security = topic_areas.get_category("security")
    people = [make_user() for _ in range(4)]

    def grow(n: int) -> None:
        for i in range(n):
            topic = make_topic(security, author=people[i % 4])
            posting.set_tags(topic, [tag.id])
            db.session.commit()
            if i % 5 == 0:
                make_post(topic, author=people[(i + 1) % 4])

    client.login(people[0])
    grow(3)
    urls = [
        "/latest",
        "/latest?sort=top&period=all",
        "/tags/evaluation",
        "/latest?status=unanswered",
    ]
    few = [count_page_queries(client, queries, url) for url in urls]
    grow(90)
    many = [
        count_page_queries(
            client, queries, url.replace("?", "?page=2&") if "?" in url else url + "?page=2"
        )
        for url in urls
    ]
    assert few == many, queries.report()
    for page, count in zip(("latest", "latest top", "tag", "latest unanswered"), many, strict=True):
        expect(page, "member", count, queries.report())


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_latest_and_home_with_forum_wide_pins_run_as_many_queries_for_1_topic_as_for_50(
    client, queries, moderator, logged_in
):
    security = topic_areas.get_category("security")
    people = [make_user() for _ in range(4)]

    def grow(n: int) -> None:
        for i in range(n):
            topic = make_topic(security, author=people[i % 4])
            if i % 5 == 0:
                make_post(topic, author=people[(i + 1) % 4])
            if i % 10 == 0:
                topic_curation.pin_topic(moderator, topic, globally=True)

    def count(url: str) -> tuple[int, str]:
        return count_page_queries(client, queries, url), queries.report()

    if logged_in:
        client.login(people[0])
    grow(1)
    few = {url: count(url) for url in ("/latest", "/")}
    grow(49)
    for url, (few_count, few_sql) in few.items():
        many_count, many_sql = count(url)
        assert few_count == many_count, f"{url}, 1 topic:\n{few_sql}\n\n50 topics:\n{many_sql}"
        page = "latest with pins" if url == "/latest" else "home with pins"
        expect(page, "member" if logged_in else "visitor", many_count, many_sql)


def test_transparency_report_query_count_does_not_grow_with_applications(client, queries):
    from tests.factories import make_application

    make_application()
    few = count_page_queries(client, queries, "/transparency")
    few_sql = queries.report()
    for n in range(40):
        make_application(institution=f"Institute {n % 4}", disciplines=("law", "nlp"))
    many = count_page_queries(client, queries, "/transparency")
    assert few == many, f"1 application:\n{few_sql}\n\n41:\n{queries.report()}"
    expect("transparency report", "visitor", many, queries.report())


def test_tag_index_and_notifications_query_counts_do_not_grow(client, queries, moderator):
    from forum.services import tags

    security = topic_areas.get_category("security")
    reader = make_user(display_name="Reader")
    people = [make_user() for _ in range(4)]

    def grow(n: int) -> None:
        for i in range(n):
            tag = tags.create_tag(moderator, name=f"topic-tag-{len(tags_made)}")
            tags_made.append(tag)
            topic = make_topic(security, author=people[i % 4])
            posting.set_tags(topic, [tag.id])
            db.session.commit()
            make_post(topic, author=people[(i + 1) % 4], body=f"Asking @{reader.handle} here")

    tags_made: list = []
    client.login(reader)
    grow(2)
    few = [count_page_queries(client, queries, url) for url in ("/tags", "/notifications")]
    grow(30)
    many = [count_page_queries(client, queries, url) for url in ("/tags", "/notifications")]
    assert client.get("/notifications").get_data(as_text=True).count("mentioned you") >= 30
    assert few == many, queries.report()
    for page, count in zip(("tag index", "notifications"), many, strict=True):
        expect(page, "member", count, queries.report())


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_moderation_log_query_count_does_not_grow_with_entries(
    client, queries, moderator, logged_in
):
    from forum.models import AgendaStatus
    from forum.services import agenda, audit, moderation
    from tests.factories import make_agenda_item, make_round

    people = [make_user() for _ in range(3)]
    safety, privacy = topic_areas.get_category("safety"), topic_areas.get_category("privacy")

    def grow(n: int) -> None:
        """Entries about every kind of target: posts, topics, areas, agenda items, rounds."""
        for i in range(n):
            topic = make_topic(safety, author=people[i % 3])
            post = make_post(topic, author=people[(i + 1) % 3])
            moderation.hide_post(moderator, post, reason=f"Reason {i}")
            moderation.warn_author(moderator, post, message="Please be kind.")
            topic_curation.move_topic(moderator, topic, privacy)
            item = make_agenda_item(people[i % 3])
            agenda.change_status(moderator, item, AgendaStatus.DECLINED, note="Not now.")
            make_round(moderator, [make_agenda_item(people[0]) for _ in range(2)])
        audit.publish_checkpoint()

    if logged_in:
        client.login(people[0])
    reader = "member" if logged_in else "visitor"
    grow(1)
    few = count_page_queries(client, queries, "/moderation/log")
    few_sql = queries.report()
    grow(12)
    many = count_page_queries(client, queries, "/moderation/log?page=2")
    assert few == many, f"few:\n{few_sql}\n\nmany:\n{queries.report()}"
    expect("moderation log", reader, many, queries.report())


def count_feed_queries(client, queries, url: str) -> int:
    """As count_page_queries, for a feed: a visitor's, one statement at the least."""
    client.get(url)
    with queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert queries.count >= 1, "the query log saw nothing: is it listening to the app's engine?"
    return queries.count


def test_feeds_run_as_many_queries_for_1_entry_as_for_50(client, queries, moderator):
    from forum.services import tags
    from tests.factories import close_round, make_agenda_item, make_round

    tag = tags.create_tag(moderator, name="evaluation")
    security = topic_areas.get_category("security")
    people = [make_user() for _ in range(4)]

    def grow(n: int) -> None:
        for i in range(n):
            topic = make_topic(security, author=people[i % 4])
            posting.set_tags(topic, [tag.id])
            db.session.commit()
        items = [make_agenda_item(people[i % 4]) for i in range(max(2, n // 10))]
        for _ in range(max(1, n // 25)):
            close_round(make_round(moderator, items))

    urls = {
        "latest feed": "/feeds/latest.atom",
        "area feed": "/feeds/c/security.atom",
        "tag feed": "/feeds/tags/evaluation.atom",
        "agenda feed": "/feeds/agenda.atom",
        "rounds feed": "/feeds/rounds.atom",
    }
    grow(1)
    few = {page: count_feed_queries(client, queries, url) for page, url in urls.items()}
    few_sql = queries.report()
    grow(50)
    many = {page: count_feed_queries(client, queries, url) for page, url in urls.items()}
    assert few == many, f"{few_sql}\n\n{queries.report()}"
    for page, url in urls.items():
        count_feed_queries(client, queries, url)
        expect(page, "visitor", many[page], queries.report())


@pytest.mark.parametrize("edited", [False, True], ids=["default", "edited"])
def test_public_page_query_count(client, queries, edited):
    from forum.models import Role
    from forum.services import pages

    admin = make_user(role=Role.ADMIN)
    if edited:
        pages.edit_page(admin, "about", body="Who we are.")
    expect(
        "public page", "visitor", count_page_queries(client, queries, "/about"), queries.report()
    )
    client.login(admin)
    expect("public page", "admin", count_page_queries(client, queries, "/about"), queries.report())


def test_sitemap_query_count_does_not_grow_with_topics(client, queries, safety):
    from tests.factories import make_agenda_item

    people = [make_user() for _ in range(3)]
    make_topic(safety, author=people[0])
    few = count_page_queries(client, queries, "/sitemap.xml")
    few_sql = queries.report()
    for i in range(60):
        make_topic(safety, author=people[i % 3])
    make_agenda_item(people[0])
    many = count_page_queries(client, queries, "/sitemap.xml")
    assert few == many, f"1 topic:\n{few_sql}\n\n61 topics:\n{queries.report()}"
    expect("sitemap", "visitor", many, queries.report())


@pytest.mark.parametrize("reader", ["visitor", "token"])
def test_read_api_query_counts_are_the_same_for_1_row_as_for_50(client, queries, reader):
    """Each API answer, for a visitor and for a member's read token (looked up once: its "last
    used" is written at most once a minute, so the repeated request writes nothing)."""
    from forum.services import api_tokens
    from tests.factories import close_round, make_agenda_item, make_round

    people = [make_user() for _ in range(3)]
    moderator = make_user(role=Role.MODERATOR)
    safety = topic_areas.get_category("safety")
    headers = {}
    if reader == "token":
        headers = {"Authorization": f"Bearer {api_tokens.create_token(people[0], name='n')[1]}"}

    def grow(n: int):
        topic = make_topic(safety, author=people[1])
        for i in range(n - 1):
            make_topic(safety, author=people[i % 3])
            make_post(topic, author=people[i % 3])
        items = [make_agenda_item(people[i % 3]) for i in range(max(n, 2))]
        make_round(moderator, items[:2])
        closed = close_round(make_round(moderator, items))
        return {
            "api topics": "/api/v1/topics?limit=100",
            "api topic": f"/api/v1/topics/{topic.id}?limit=100",
            "api agenda": "/api/v1/agenda?limit=100",
            "api agenda item": f"/api/v1/agenda/{items[0].id}",
            "api rounds": "/api/v1/rounds?limit=100",
            "api round": f"/api/v1/rounds/{closed.id}",
            "api search": "/api/v1/search?q=know&limit=100",
            "api search by date": "/api/v1/search?q=know&order=date&limit=100",
        }

    def counts(urls: dict[str, str]) -> dict[str, tuple[int, str]]:
        found = {}
        for page, url in urls.items():
            client.get(url, headers=headers)
            with queries:
                assert client.get(url, headers=headers).status_code == 200
            found[page] = (queries.count, queries.report())
        return found

    few = counts(grow(1))
    many = counts(grow(50))
    for page, (count, report) in many.items():
        assert few[page][0] == count, f"{page}: 1 row\n{few[page][1]}\n\n50 rows:\n{report}"
        expect(page, reader, count, report)


def test_papers_and_deadlines_pages_do_not_grow_with_papers(client, queries):
    from datetime import datetime

    from forum.models import PaperStatus
    from forum.services import paper_authors, papers

    reader = make_user()
    year = datetime.now().year + 1

    def add_paper(n: int) -> None:
        lead = make_user()
        paper = papers.create_paper(
            lead,
            papers.PaperDetails(
                title=f"Paper {n}",
                status=PaperStatus.SUBMITTED,
                abstract_deadline=papers.Deadline(datetime(year, 1, 1 + n % 28, 12), "AoE"),
                full_deadline=papers.Deadline(datetime(year, 2, 1 + n % 28, 12), "Europe/Paris"),
            ),
        )
        paper_authors.add_outside_author(lead, paper, name=f"Outsider {n}")

    add_paper(0)
    client.login(reader)
    few = {
        path: count_page_queries(client, queries, path) for path in ("/papers", "/papers/deadlines")
    }
    for n in range(1, 50):
        add_paper(n)
    many = {
        "/papers": count_page_queries(client, queries, "/papers?page=2"),
        "/papers/deadlines": count_page_queries(client, queries, "/papers/deadlines"),
    }
    assert few == many, queries.report()
    expect("papers", "member", many["/papers"], queries.report())
    expect("paper deadlines", "member", many["/papers/deadlines"], queries.report())


def test_workshop_pages_query_counts_do_not_grow_with_participants_or_sessions(
    client, queries, moderator, safety
):
    from forum.services import workshops
    from tests.factories import make_session, make_workshop

    reader = make_user()
    workshop = make_workshop(moderator, capacity=100)
    workshops.register(reader, workshop, listed=True)
    make_session(moderator, workshop, topics=[make_topic(safety, author=reader)])
    client.login(reader)
    few = {
        "workshop": count_page_queries(client, queries, f"/workshops/{workshop.id}"),
        "workshops": count_page_queries(client, queries, "/workshops"),
    }
    few_sql = queries.report()
    for i in range(49):
        workshops.register(make_user(), workshop, listed=bool(i % 2))
        make_workshop(moderator, title=f"Workshop {i}")
    for _ in range(9):
        make_session(moderator, workshop, topics=[make_topic(safety, author=reader)])
    # What came out of each session (written once it started; here straight into the table).
    from forum.models import OutcomeKind, PaperStatus, WorkshopSession, WorkshopSessionOutcome
    from forum.services import papers

    for position, session in enumerate(db.session.query(WorkshopSession).all()):
        paper = papers.create_paper(
            reader, papers.PaperDetails(title=f"Paper {position}", status=PaperStatus.SUBMITTED)
        )
        db.session.add(
            WorkshopSessionOutcome(
                session_id=session.id, kind=OutcomeKind.PAPER, target_id=paper.id, position=0
            )
        )
    db.session.commit()
    many = {
        "workshops": count_page_queries(client, queries, "/workshops"),
        "workshop": count_page_queries(client, queries, f"/workshops/{workshop.id}"),
    }
    assert few == many, f"1 of each:\n{few_sql}\n\n50:\n{queries.report()}"
    expect("workshop", "member", many["workshop"], queries.report())
    count_page_queries(client, queries, "/workshops")
    expect("workshops", "member", many["workshops"], queries.report())


def test_a_members_workshop_feed_runs_as_many_queries_for_1_workshop_as_for_50(
    client, queries, moderator
):
    from forum.models import FeedKind
    from forum.services import calendar_feeds, workshops
    from tests.factories import make_workshop

    member = make_user()
    token = calendar_feeds.renew_feed(member, FeedKind.WORKSHOPS)
    url = f"/workshops/feed/{token}.ics"

    def grow(n: int) -> None:
        for i in range(n):
            workshop = make_workshop(
                moderator, title=f"Workshop {i}", capacity=1, link_for_participants_only=i % 2 == 0
            )
            if i % 3 == 0:  # waiting behind someone else: no link
                workshops.register(make_user(), workshop)
            workshops.register(member, workshop)

    grow(1)
    few = count_page_queries(client, queries, url)
    few_sql = queries.report()
    grow(49)
    many = count_page_queries(client, queries, url)
    assert few == many, f"1 workshop:\n{few_sql}\n\n50:\n{queries.report()}"
    expect("workshop feed", "token", many, queries.report())


def test_a_members_paper_deadlines_feed_runs_as_many_queries_for_1_paper_as_for_50(client, queries):
    from datetime import datetime

    from forum.models import FeedKind, PaperStatus
    from forum.services import calendar_feeds, papers

    member = make_user()
    token = calendar_feeds.renew_feed(member, FeedKind.PAPER_DEADLINES)
    url = f"/papers/feed/{token}.ics"
    year = datetime.now().year + 1

    def grow(n: int) -> None:
        for i in range(n):
            papers.create_paper(
                member if i % 2 else make_user(),
                papers.PaperDetails(
                    title=f"Paper {i}",
                    status=PaperStatus.DRAFTING if i % 2 else PaperStatus.SUBMITTED,
                    abstract_deadline=papers.Deadline(datetime(year, 1, 1 + i % 28, 12), "AoE"),
                    full_deadline=papers.Deadline(datetime(year, 2, 1 + i % 28), "Asia/Tokyo"),
                ),
            )

    grow(1)
    few = count_page_queries(client, queries, url)
    few_sql = queries.report()
    grow(49)
    many = count_page_queries(client, queries, url)
    assert few == many, f"1 paper:\n{few_sql}\n\n50:\n{queries.report()}"
    expect("paper deadlines feed", "token", many, queries.report())


def test_calendar_address_pages_query_counts(client, queries):
    from forum.models import FeedKind
    from forum.services import calendar_feeds

    member = make_user()
    calendar_feeds.renew_feed(member, FeedKind.PAPER_DEADLINES)
    client.login(member)
    for page, url in (
        ("paper calendar", "/papers/calendar"),
        ("workshop calendar", "/workshops/calendar"),
    ):
        count = count_page_queries(client, queries, url)
        expect(page, "member", count, queries.report())
