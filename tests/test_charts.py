"""Result charts: well-formed, accessible SVG that shows member-written titles safely."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.charts import LABEL_MAX_CHARS, bar_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
RESULTS = [("Membership inference on fine-tuned models", 12), ("Prompt injection", 6)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def rects(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{SVG}rect")


def texts(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [el for el in root.iter(f"{SVG}text") if el.get("class") == css_class]


def label_text(label: ET.Element) -> str:
    """A bar's label as read: its lines (one tspan each) joined, without bidi isolates."""
    lines = [line.text or "" for line in label.iter(f"{SVG}tspan")]
    return " ".join(lines).replace("\u2068", "").replace("\u2069", "")


def test_reader_sees_one_bar_per_agenda_item():
    root = parse(bar_chart_svg(RESULTS + [("Jailbreak benchmarks", 3)], title="Round 4"))
    assert root.tag == f"{SVG}svg"
    assert len(rects(root)) == 3
    assert [el.text for el in texts(root, "bar-value")] == ["12", "6", "3"]


def test_bar_lengths_are_proportional_to_the_scores():
    root = parse(bar_chart_svg([("a", 10), ("b", 5), ("c", 2.5), ("d", 0)], title="t"))
    widths = [float(rect.get("width")) for rect in rects(root)]
    assert widths[0] > 0
    assert [width / widths[0] for width in widths] == pytest.approx([1, 0.5, 0.25, 0], abs=1e-3)


def test_screen_reader_gets_a_title_and_every_value():
    svg = bar_chart_svg(RESULTS, title="Priorities, round 4")
    root = parse(svg)
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Priorities, round 4"
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    assert "Prompt injection: 6" in desc.text
    tooltips = [rect.find(f"{SVG}title").text for rect in rects(root)]
    assert tooltips == ["Membership inference on fine-tuned models: 12", "Prompt injection: 6"]


def test_values_are_shown_with_the_callers_formatter():
    root = parse(bar_chart_svg([("a", 2.5)], title="t", value_label=lambda v: f"{v:.1f} pts"))
    assert texts(root, "bar-value")[0].text == "2.5 pts"
    assert rects(root)[0].find(f"{SVG}title").text == "a: 2.5 pts"


def test_fractional_scores_are_shown_without_noise():
    root = parse(bar_chart_svg([("a", 20.0), ("b", 13.3333)], title="t"))
    assert [el.text for el in texts(root, "bar-value")] == ["20", "13.33"]


def test_a_long_title_is_cut_with_an_ellipsis_but_kept_whole_in_the_tooltip():
    label = "Differential privacy budgets for retrieval-augmented generation over private mail"
    root = parse(bar_chart_svg([(label, 1)], title="t"))
    shown = label_text(texts(root, "bar-label")[0])
    assert len(shown) <= LABEL_MAX_CHARS
    assert len(list(texts(root, "bar-label")[0])) == 2  # wrapped onto two lines
    assert shown.endswith("…")
    assert label.startswith(shown[:-1])
    assert rects(root)[0].find(f"{SVG}title").text == f"{label}: 1"


def test_a_malicious_title_is_shown_as_text():
    label = "<script>alert(1)</script> & \"q\" 'x'"
    svg = bar_chart_svg([(label, 1)], title="<b>Round</b> & 'co'")
    assert "<script" not in svg
    assert "<b>" not in svg
    root = parse(svg)
    assert label_text(texts(root, "bar-label")[0]) == label
    assert rects(root)[0].find(f"{SVG}title").text == f"{label}: 1"
    assert root.find(f"{SVG}title").text == "<b>Round</b> & 'co'"


def test_a_chart_has_no_scripts_links_or_event_handlers():
    svg = bar_chart_svg([('x" onload="alert(1)', 1)], title="t")
    root = parse(svg)
    for element in root.iter():
        assert element.tag.removeprefix(SVG) not in {"script", "a", "image", "use", "foreignObject"}
        for attribute in element.attrib:
            assert not attribute.lower().startswith("on")
            assert "href" not in attribute
    assert "url(" not in svg


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(), st.integers(0, 10**6)), max_size=5), st.text())
def test_any_member_written_text_still_gives_a_well_formed_chart(bars, title):
    root = parse(bar_chart_svg(bars, title=title))
    assert len(rects(root)) == len(bars)


def test_a_round_without_results_says_there_is_nothing_to_show():
    root = parse(bar_chart_svg([], title="Round 5", empty_message="No ballots yet."))
    assert rects(root) == []
    assert texts(root, "bar-chart-empty")[0].text == "No ballots yet."
    assert root.find(f"{SVG}desc").text == "No ballots yet."
    assert float(root.get("height")) > 0


def test_all_zero_scores_draw_empty_bars():
    root = parse(bar_chart_svg([("a", 0), ("b", 0)], title="t"))
    assert [rect.get("width") for rect in rects(root)] == ["0", "0"]


def test_each_bar_gets_the_same_height_and_the_chart_grows_with_them():
    one = parse(bar_chart_svg([("a", 1)], title="t"))
    three = parse(bar_chart_svg([("a", 1), ("b", 2), ("c", 3)], title="t"))
    assert {rect.get("height") for rect in rects(three)} == {rects(one)[0].get("height")}
    assert float(three.get("height")) > float(one.get("height"))
    tops = [float(rect.get("y")) for rect in rects(three)]
    assert tops == sorted(tops) and len(set(tops)) == 3


def test_arabic_readers_see_the_chart_mirrored():
    bars = [("الخصوصية التفاضلية", 8), ("b", 2)]
    ltr = parse(bar_chart_svg(bars, title="t", width=600))
    rtl = parse(bar_chart_svg(bars, title="t", width=600, rtl=True))
    for left, right in zip(rects(ltr), rects(rtl), strict=True):
        width = float(left.get("width"))
        assert float(right.get("width")) == width
        assert float(right.get("x")) == pytest.approx(600 - float(left.get("x")) - width)
    ltr_label, rtl_label = texts(ltr, "bar-label")[0], texts(rtl, "bar-label")[0]
    # Labels sit above their bars, starting where the bar starts: the left edge, or the right.
    ltr_bar, rtl_bar = rects(ltr)[0], rects(rtl)[0]
    assert float(ltr_label.get("x")) == pytest.approx(float(ltr_bar.get("x")))
    assert float(rtl_label.get("x")) == pytest.approx(
        float(rtl_bar.get("x")) + float(rtl_bar.get("width"))
    )
    for label, bar in ((ltr_label, ltr_bar), (rtl_label, rtl_bar)):
        assert float(label.find(f"{SVG}tspan").get("y")) < float(bar.get("y"))
    assert float(rtl_label.get("x")) == pytest.approx(600 - float(ltr_label.get("x")))
    assert rtl_label.get("direction") == "rtl" and rtl_label.get("text-anchor") == "start"
    assert label_text(rtl_label) == "الخصوصية التفاضلية"
    assert rtl_label.find(f"{SVG}tspan").text.startswith("\u2068")  # isolated: own direction


def test_the_bars_work_in_light_and_dark_mode():
    root = parse(bar_chart_svg(RESULTS, title="t"))
    assert {rect.get("fill") for rect in rects(root)} == {"#3b6fd8"}
    assert {el.get("fill") for el in root.iter(f"{SVG}text")} == {"currentColor"}


def test_two_charts_on_one_page_have_different_ids():
    first = parse(bar_chart_svg(RESULTS, title="Round 4"))
    second = parse(bar_chart_svg(RESULTS, title="Round 5"))
    named = parse(bar_chart_svg(RESULTS, title="Round 5", chart_id="round-5"))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")
    assert named.get("aria-labelledby") == "round-5-title round-5-desc"


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_a_negative_or_undefined_score_is_refused(bad):
    with pytest.raises(ValueError, match="finite and not negative"):
        bar_chart_svg([("a", bad)], title="t")


def test_tied_items_share_a_rank_and_the_chart_says_so():
    from forum.services.round_results import shared_ranks

    assert shared_ranks([9, 5, 5, 2, 2, 2, 1]) == [
        (1, False),
        (2, True),
        (2, True),
        (4, True),
        (4, True),
        (4, True),
        (7, False),
    ]
    root = parse(bar_chart_svg([("=1. a", 3), ("=1. b", 3)], title="t", note="= marks a tie."))
    note = texts(root, "bar-chart-note")[0]
    assert label_text(note) == "= marks a tie."
    assert "= marks a tie." in root.find(f"{SVG}desc").text
    assert float(root.get("height")) >= float(note.find(f"{SVG}tspan").get("y"))


def test_the_chart_is_narrow_enough_to_keep_its_text_size_on_a_phone():
    root = parse(bar_chart_svg(RESULTS, title="t"))
    assert float(root.get("width")) <= 343  # a 375px screen less the page's margins
    assert float(root.get("font-size")) >= 12
