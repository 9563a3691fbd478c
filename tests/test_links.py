"""Duplicate detection for shared resources: canonical URLs, DOIs and the keys built from them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forum.links import (
    TRACKING_PARAMS,
    canonical_url,
    display_domain,
    doi_url,
    normalise_doi,
    resource_key,
)

# --- canonical_url: forms of the same page ------------------------------------------------


def same(*urls: str) -> bool:
    keys = {canonical_url(url) for url in urls}
    return len(keys) == 1 and None not in keys


def test_a_canonical_url_looks_like_a_plain_https_url():
    assert canonical_url("https://example.org/path?b=2&a=1") == "https://example.org/path?a=1&b=2"


def test_the_same_page_shared_with_a_trailing_slash_is_recognised():
    assert same("https://example.org/papers", "https://example.org/papers/")


def test_the_root_path_and_no_path_are_the_same_page():
    assert same("https://example.org", "https://example.org/", "https://example.org//")
    assert canonical_url("https://example.org/") == "https://example.org"


def test_http_and_https_are_the_same_page_and_the_key_uses_https():
    assert same("http://example.org/a", "https://example.org/a", "HTTPS://example.org/a")
    assert canonical_url("http://example.org/a") == "https://example.org/a"


def test_a_leading_www_is_ignored():
    assert same("https://www.example.org/a", "https://example.org/a")


def test_www_is_kept_when_dropping_it_would_leave_a_bare_top_level_domain():
    assert canonical_url("https://www.com/") == "https://www.com"


def test_host_case_is_ignored_but_path_case_is_kept():
    assert same("https://EXAMPLE.Org/Paper", "https://example.org/Paper")
    assert not same("https://example.org/Paper", "https://example.org/paper")


def test_a_trailing_dot_on_the_host_is_ignored():
    assert same("https://example.org./a", "https://example.org/a")


@pytest.mark.parametrize(
    "tracking",
    [
        "utm_source=newsletter",
        "utm_medium=email&utm_campaign=launch",
        "UTM_Source=x",
        "utm_anything_new=1",
        "fbclid=IwAR0abc",
        "gclid=abc",
        "dclid=abc",
        "msclkid=abc",
        "mc_cid=abc&mc_eid=def",
        "igshid=abc",
        "yclid=abc",
        "_hsenc=abc&_hsmi=def",
        "ref=hn",
        "ref_src=twsrc",
        "FBCLID=abc",
        "utm%5Fsource=encoded",
    ],
)
def test_tracking_parameters_are_removed(tracking):
    assert same("https://example.org/a?id=7", f"https://example.org/a?id=7&{tracking}")
    assert same("https://example.org/a", f"https://example.org/a?{tracking}")
    assert canonical_url(f"https://example.org/a?{tracking}") == "https://example.org/a"


def test_the_tracking_parameters_are_a_named_constant_without_the_generic_source():
    assert "fbclid" in TRACKING_PARAMS
    assert "source" not in TRACKING_PARAMS
    assert canonical_url("https://example.org/data?source=census") == (
        "https://example.org/data?source=census"
    )


def test_meaningful_parameters_are_kept_and_their_order_does_not_matter():
    assert same("https://example.org/s?q=llm&page=2", "https://example.org/s?page=2&q=llm")
    assert not same("https://example.org/s?q=llm", "https://example.org/s?q=rag")
    assert not same("https://example.org/s?q=llm", "https://example.org/s")


def test_repeated_parameters_keep_their_relative_order_and_blank_values_are_kept():
    assert canonical_url("https://example.org/s?tag=b&a=1&tag=a&flag") == (
        "https://example.org/s?a=1&flag=&tag=b&tag=a"
    )
    assert not same("https://example.org/s?tag=b&tag=a", "https://example.org/s?tag=a&tag=b")


def test_an_empty_query_is_dropped():
    assert canonical_url("https://example.org/a?") == "https://example.org/a"


def test_the_fragment_is_ignored():
    assert same(
        "https://example.org/a#section-2", "https://example.org/a", "https://example.org/a#"
    )


@pytest.mark.parametrize(
    "url",
    ["http://example.org:80/a", "https://example.org:443/a", "http://example.org:443/a"],
)
def test_default_ports_are_ignored(url):
    assert canonical_url(url) == "https://example.org/a"


def test_other_ports_are_kept():
    assert canonical_url("https://example.org:8443/a") == "https://example.org:8443/a"


def test_duplicate_slashes_in_the_path_are_collapsed():
    assert same("https://example.org/a//b///c", "https://example.org/a/b/c")


def test_dot_segments_in_the_path_are_resolved():
    assert same("https://example.org/a/./b/../c", "https://example.org/a/c")


def test_percent_encoding_of_unreserved_characters_is_the_same_as_the_character():
    assert same(
        "https://example.org/%7Euser", "https://example.org/~user", "https://example.org/%7euser"
    )
    assert canonical_url("https://example.org/%7euser") == "https://example.org/~user"


def test_other_percent_escapes_are_kept_with_uppercase_hex():
    assert canonical_url("https://example.org/a%2fb%3a") == "https://example.org/a%2Fb%3A"
    assert not same("https://example.org/a%2Fb", "https://example.org/a/b")


def test_non_ascii_path_characters_match_their_percent_encoded_form():
    assert same("https://example.org/café", "https://example.org/caf%C3%A9")


def test_a_stray_percent_sign_is_encoded_rather_than_rejected():
    assert canonical_url("https://example.org/100%") == "https://example.org/100%25"


def test_a_unicode_host_and_its_punycode_form_are_the_same_page():
    assert same("https://bücher.example/a", "https://xn--bcher-kva.example/a")
    assert canonical_url("https://BÜCHER.example/a") == "https://xn--bcher-kva.example/a"


def test_query_values_are_compared_decoded():
    assert same("https://example.org/s?q=a%20b", "https://example.org/s?q=a+b")
    assert same("https://example.org/s?q=%41", "https://example.org/s?q=A")


def test_credentials_in_the_url_are_not_part_of_the_key():
    assert canonical_url("https://user:secret@example.org/a") == "https://example.org/a"


def test_an_ipv6_host_is_accepted():
    assert canonical_url("http://[2001:DB8::1]:8080/x") == "https://[2001:db8::1]:8080/x"


def test_surrounding_whitespace_is_ignored():
    assert canonical_url("  https://example.org/a \n") == "https://example.org/a"


# --- canonical_url: arXiv -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/2302.12173",
        "https://arxiv.org/abs/2302.12173v2",
        "https://arxiv.org/pdf/2302.12173",
        "https://arxiv.org/pdf/2302.12173v2",
        "https://arxiv.org/pdf/2302.12173v2.pdf",
        "https://arxiv.org/pdf/2302.12173.pdf",
        "http://www.arxiv.org/abs/2302.12173v1/",
        "https://export.arxiv.org/abs/2302.12173",
        "https://arxiv.org/html/2302.12173v3",
        "https://arxiv.org/abs/2302.12173?context=cs#comments",
    ],
)
def test_every_form_of_an_arxiv_paper_is_the_abstract_page(url):
    assert canonical_url(url) == "https://arxiv.org/abs/2302.12173"


def test_old_style_arxiv_identifiers_are_recognised():
    assert same(
        "https://arxiv.org/pdf/hep-th/9901001v3.pdf", "https://arxiv.org/abs/hep-th/9901001"
    )
    assert canonical_url("https://arxiv.org/abs/math.GT/0309136v1") == (
        "https://arxiv.org/abs/math.GT/0309136"
    )


def test_different_arxiv_papers_stay_different():
    assert not same("https://arxiv.org/abs/2302.12173", "https://arxiv.org/abs/2302.12174")


def test_other_arxiv_pages_are_treated_as_ordinary_urls():
    assert canonical_url("https://arxiv.org/list/cs.CR/recent/") == (
        "https://arxiv.org/list/cs.CR/recent"
    )


# --- canonical_url: not URLs --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not a url",
        "ftp://example.org/file",
        "javascript:alert(1)",
        "mailto:someone@example.org",
        "data:text/html,<b>x</b>",
        "/relative/path",
        "relative/path",
        "//example.org/protocol-relative",
        "example.org/no-scheme",
        "https://",
        "https:///path-without-host",
        "http:example.org",
        "https://exa mple.org/",
        "https://a..b/",
        "https://example.org:99999/",
        "https://example.org:port/",
        "https://[::1/",
        "https://example.org\\@evil.example/",
        "https://example.org/a\tb",
        "https://" + "a" * 64 + ".example/",
    ],
)
def test_text_that_is_not_an_absolute_http_url_with_a_host_has_no_canonical_form(text):
    assert canonical_url(text) is None
    assert display_domain(text) == ""


# --- canonical_url: properties ------------------------------------------------------------

HOSTS = [
    "example.org",
    "www.example.org",
    "EXAMPLE.org",
    "sub.example.co.uk",
    "bücher.example",
    "xn--bcher-kva.example",
    "arxiv.org",
    "www.arxiv.org",
    "doi.org",
    "127.0.0.1",
    "example.org:8080",
    "example.org:443",
]
PATH_CHARS = "abcXYZ019-._~!$&'()*+,;=:@%é"
# No raw space: it is not a URL character (a typed one at the end is trimmed as padding).
QUERY_CHARS = "abcXYZ019-._~!$'()*,;:@/?%é+"

segments = st.text(alphabet=PATH_CHARS, max_size=8)
paths = st.lists(segments, max_size=5).map(lambda parts: "/" + "/".join(parts))
params = st.lists(
    st.tuples(
        st.text(alphabet=QUERY_CHARS, min_size=1, max_size=6),
        st.text(alphabet=QUERY_CHARS, max_size=6),
    ),
    max_size=4,
)
tracking_params = st.lists(
    st.tuples(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).map(
            lambda name: f"utm_{name}"
        ),
        st.text(alphabet=QUERY_CHARS, max_size=6),
    ),
    min_size=1,
    max_size=3,
)


def build(scheme: str, host: str, path: str, query: list[tuple[str, str]], fragment: str) -> str:
    url = f"{scheme}://{host}{path}"
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query)
    if fragment:
        url += "#" + fragment
    return url


@given(
    scheme=st.sampled_from(["http", "https"]),
    host=st.sampled_from(HOSTS),
    path=paths,
    query=params,
    fragment=st.text(alphabet=QUERY_CHARS, max_size=5),
)
def test_canonicalising_a_canonical_url_changes_nothing(scheme, host, path, query, fragment):
    canonical = canonical_url(build(scheme, host, path, query, fragment))
    assert canonical is not None
    assert canonical_url(canonical) == canonical


@given(
    host=st.sampled_from(HOSTS),
    path=paths,
    query=params,
    tracking=tracking_params,
    position=st.integers(min_value=0, max_value=4),
)
def test_tracking_parameters_a_trailing_slash_or_the_scheme_never_change_the_key(
    host, path, query, tracking, position
):
    original = canonical_url(build("https", host, path, query, ""))
    with_tracking = query[:position] + tracking + query[position:]
    assert canonical_url(build("https", host, path, with_tracking, "")) == original
    assert canonical_url(build("https", host, path.rstrip("/") + "/", query, "")) == original
    assert canonical_url(build("http", host, path, query, "")) == original


@given(st.one_of(st.text(), st.text().map(lambda rest: "https://" + rest)))
def test_any_text_either_has_no_canonical_form_or_a_stable_one(text):
    canonical = canonical_url(text)
    if canonical is None:
        assert display_domain(text) == ""
    else:
        assert canonical.startswith("https://")
        assert canonical_url(canonical) == canonical
        assert display_domain(text)


# --- display_domain -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.arxiv.org/abs/2302.12173", "arxiv.org"),
        ("https://arxiv.org/abs/2302.12173", "arxiv.org"),
        ("http://Data.Example.ORG:8080/x", "data.example.org"),
        ("https://xn--bcher-kva.example/x", "bücher.example"),
        ("https://bücher.example/x", "bücher.example"),
        ("https://[::1]/x", "[::1]"),
    ],
)
def test_the_domain_shown_on_a_resource_card_is_the_readable_host(url, domain):
    assert display_domain(url) == domain


def test_an_invalid_punycode_host_is_shown_as_is_rather_than_failing():
    assert display_domain("https://xn--zz.example/") == "xn--zz.example"


# --- normalise_doi ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "10.1000/xyz123",
        "10.1000/XYZ123",
        "doi:10.1000/XYZ123",
        "DOI:10.1000/xyz123",
        "DOI: 10.1000/xyz123",
        "  10.1000/xyz123  ",
        "https://doi.org/10.1000/xyz123",
        "http://doi.org/10.1000/XYZ123",
        "http://dx.doi.org/10.1000/xyz123",
        "https://www.doi.org/10.1000/xyz123",
        "https://doi.org/10.1000%2Fxyz123",
        "https://doi.org/10.1000/xyz123?utm_source=x#top",
    ],
)
def test_every_accepted_form_of_a_doi_gives_the_same_lowercase_doi(text):
    assert normalise_doi(text) == "10.1000/xyz123"


def test_a_percent_encoded_suffix_in_a_doi_url_is_decoded():
    assert normalise_doi("https://doi.org/10.1002/%28SICI%291097-4571") == (
        "10.1002/(sici)1097-4571"
    )


def test_registrant_codes_may_have_dot_separated_sub_codes():
    assert normalise_doi("10.1000.10/abc") == "10.1000.10/abc"
    assert normalise_doi("10.123456789/abc") == "10.123456789/abc"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "11.1000/x",
        "10.12/x",
        "10.123/x",
        "10.1234567890/x",
        "10.1000/",
        "10.1000",
        "10.1000/ab cd",
        "10.abcd/x",
        "10.1000./x",
        "doi:",
        "doi: 11.1000/x",
        "https://example.org/10.1000/x",
        "ftp://doi.org/10.1000/x",
        "https://doi.org/",
        "https://doi.org/10.1000/a%20b",
        "not a doi",
    ],
)
def test_text_that_is_not_a_doi_is_rejected(text):
    assert normalise_doi(text) is None


# --- doi_url ------------------------------------------------------------------------------


def test_a_doi_links_to_the_doi_org_resolver():
    assert doi_url("10.1000/xyz123") == "https://doi.org/10.1000/xyz123"
    assert doi_url("doi:10.1000/XYZ123") == "https://doi.org/10.1000/xyz123"


def test_characters_that_would_break_the_resolver_url_are_encoded():
    assert doi_url("10.1000/a#b?c%d") == "https://doi.org/10.1000/a%23b%3Fc%25d"
    assert doi_url("10.1002/(sici)1097-4571:3<1>") == (
        "https://doi.org/10.1002/(sici)1097-4571:3%3C1%3E"
    )


def test_a_doi_url_of_something_that_is_not_a_doi_is_an_error():
    with pytest.raises(ValueError):
        doi_url("not a doi")


@given(
    registrant=st.from_regex(r"\A[0-9]{4,9}(\.[0-9]{1,3}){0,2}\Z"),
    suffix=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
        min_size=1,
        max_size=20,
    ),
)
def test_the_doi_url_of_a_doi_resolves_back_to_the_same_doi(registrant, suffix):
    doi = normalise_doi(f"10.{registrant}/{suffix}")
    if doi is not None:  # e.g. a suffix containing Unicode whitespace outside Zs
        assert normalise_doi(doi_url(doi)) == doi


# --- resource_key -------------------------------------------------------------------------


def test_a_resource_with_a_doi_and_a_url_has_a_key_for_each():
    assert resource_key("https://www.example.org/paper/", "DOI: 10.1000/XYZ") == [
        "doi:10.1000/xyz",
        "url:https://example.org/paper",
    ]


def test_a_resource_with_only_a_url_or_only_a_doi_has_one_key():
    assert resource_key("https://example.org/a", None) == ["url:https://example.org/a"]
    assert resource_key(None, "10.1000/x") == ["doi:10.1000/x"]


def test_a_resource_with_neither_or_with_invalid_values_has_no_keys():
    assert resource_key(None, None) == []
    assert resource_key("", "") == []
    assert resource_key("not a url", "not a doi") == []


def test_a_doi_org_url_and_the_same_doi_share_a_key_whatever_the_case():
    by_url = resource_key("https://doi.org/10.1145/ABC.123", None)
    by_doi = resource_key(None, "10.1145/abc.123")
    assert "doi:10.1145/abc.123" in by_url
    assert set(by_url) & set(by_doi)


def test_a_doi_given_both_ways_appears_only_once():
    keys = resource_key("http://dx.doi.org/10.1145/ABC", "doi:10.1145/abc")
    assert keys == ["doi:10.1145/abc", "url:https://dx.doi.org/10.1145/ABC"]
    assert len(keys) == len(set(keys))


def test_arxiv_pdf_and_abstract_links_share_a_key():
    assert resource_key("https://arxiv.org/pdf/2302.12173v2.pdf", None) == resource_key(
        "http://arxiv.org/abs/2302.12173", None
    )
