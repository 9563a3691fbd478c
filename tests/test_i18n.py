"""English and Arabic from the start: every message has an Arabic translation, pages read RTL."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale, gettext
from markupsafe import Markup

from tests.factories import make_post, make_topic

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "N_": None, "lazy_gettext": None}


def source_messages() -> set[str]:
    """Every message the code and templates mark for translation, extracted afresh."""
    found = set()
    for folder, method in (("forum", "python"), ("templates", "jinja2")):
        patterns = ["**.py"] if method == "python" else ["**.html", "**.txt"]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), method_map=[(p, method) for p in patterns], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_an_arabic_translation():
    with open(ROOT / "forum/translations/ar/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po)
    translated = {
        m.id[0] if isinstance(m.id, tuple) else m.id
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(source_messages() - translated)
    assert missing == [], "run `make extract-messages` and translate:\n" + "\n".join(missing)


def test_arabic_pages_are_translated_and_right_to_left(client, member, safety):
    topic = make_topic(safety, author=member, title="English title stays as written")
    client.post("/language", data={"locale": "ar", "next": "/"})
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "الانتقال إلى المحتوى" in page  # "Skip to content"
    assert "السلامة" in page  # the Safety area's name
    assert "English title stays as written" in page
    assert '<h1 dir="auto">' in page


def test_member_language_preference_follows_them_to_another_browser(app, client, member):
    client.login(member)
    client.post("/language", data={"locale": "ar", "next": "/"})
    elsewhere = app.test_client()
    assert 'lang="en"' in elsewhere.get("/").get_data(as_text=True)
    elsewhere.login(member)
    assert 'lang="ar"' in elsewhere.get("/").get_data(as_text=True)


def test_browser_language_is_used_when_nothing_was_chosen(client):
    page = client.get("/", headers={"Accept-Language": "ar,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


def test_an_email_sent_in_its_readers_language_leaves_the_page_in_the_readers(app):
    """Translations are kept for the request (issue 15), but with the locale they belong to: a
    member reading Arabic who triggers an English email gets English in the email only."""
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        arabic = gettext("Home")
        assert arabic != "Home"
        with force_locale("en"):
            assert gettext("Home") == "Home"
            assert render_template_string("{{ _('Home') }}") == "Home"
        assert gettext("Home") == arabic
        assert render_template_string("{{ _('Home') }}") == arabic


def test_an_english_title_inside_an_arabic_sentence_keeps_its_punctuation_in_place(
    client, member, safety
):
    """The reply page's heading puts the topic's title into a translated sentence: on an Arabic
    page it is isolated (U+2068 … U+2069), so "set?" stays "set?" and the quotes stay around it."""
    topic = make_topic(safety, author=member, title="Was it in the training set?")
    client.login(member)
    client.post("/language", data={"locale": "ar", "next": "/"})
    page = client.get(f"/t/{topic.id}/reply").get_data(as_text=True)
    assert "\u2068Was it in the training set?\u2069" in page


def test_every_translated_sentence_isolates_text_of_the_other_direction(app):
    """The rule is the templates' one _(): any plain value holding letters of the other
    direction is isolated, whatever the sentence; text of the page's own direction, numbers and
    the forum's own HTML (Markup) are left as they are."""
    sentence = "{{ _('Reply to %(name)s', name=name) }}"
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert "\u2068Ada Lovelace?\u2069" in render_template_string(sentence, name="Ada Lovelace?")
        assert "\u2068" not in render_template_string(sentence, name="ليلى")
        assert "\u2068" not in render_template_string(
            "{{ ngettext('%(num)d reply', '%(num)d replies', 3) }}"
        )
    with app.test_request_context("/"), force_locale("en"):
        assert "\u2068ليلى؟\u2069" in render_template_string(sentence, name="ليلى؟")
        assert render_template_string(sentence, name="Ada") == "Reply to Ada"
        assert "\u2068" not in render_template_string(sentence, name=Markup("<b>Ada</b>"))
        # Escaping is kept: the value is still escaped inside the isolates.
        assert "&lt;script&gt;" in render_template_string(sentence, name="<script>ليلى")


def test_a_notification_about_an_english_topic_isolates_its_title_on_an_arabic_page(
    client, member, moderator, safety
):
    topic = make_topic(safety, author=member, title="Was it in the training set?")
    make_post(topic, author=moderator, body="A reply")  # notifies the topic's author
    client.login(member)
    client.post("/language", data={"locale": "ar", "next": "/"})
    page = client.get("/notifications").get_data(as_text=True)
    assert "\u2068Was it in the training set?\u2069" in page
