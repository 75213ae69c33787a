"""Allowed-origin validation and the frame-ancestors directive (pure module)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widgets.origins import InvalidOrigin, frame_ancestors, normalise_origin, parse_origins


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://www.example.com", "https://www.example.com"),
        ("HTTPS://Example.COM/", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("  https://salon-zen.fr  ", "https://salon-zen.fr"),
        ("https://xn--caf-dma.fr", "https://xn--caf-dma.fr"),
    ],
)
def test_origins_are_normalised_as_browsers_compare_them(given, expected):
    assert normalise_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "example.com",  # no scheme
        "ftp://example.com",
        "javascript:alert(1)",
        "https://example.com/booking",  # a path
        "https://example.com?x=1",
        "https://example.com#top",
        "https://*.example.com",
        "https://user:pw@example.com",
        "https://exa mple.com",
        "https://-bad-.com",
        "https://example.com:99999",
        "https://999.1.1.1",
        "https://",
        "'self'",
        "https://example.com; script-src *",  # must never reach the header
    ],
)
def test_anything_but_scheme_host_port_is_refused(bad):
    with pytest.raises(InvalidOrigin):
        normalise_origin(bad)


def test_a_list_skips_blank_lines_and_duplicates():
    lines = ["https://a.example", "", "HTTPS://A.example/", "http://localhost:3000", "   "]
    assert parse_origins(lines) == ["https://a.example", "http://localhost:3000"]


def test_a_list_is_limited_to_twenty_websites():
    with pytest.raises(InvalidOrigin, match="at most 20"):
        parse_origins([f"https://site{i}.example" for i in range(21)])


def test_the_error_names_the_faulty_line():
    with pytest.raises(InvalidOrigin, match="example.com/booking"):
        parse_origins(["https://ok.example", "https://example.com/booking"])


def test_frame_ancestors_always_allows_the_business_own_host():
    assert frame_ancestors([]) == "frame-ancestors 'self'"
    assert (
        frame_ancestors(["https://salon.example", "http://localhost:3000"])
        == "frame-ancestors 'self' https://salon.example http://localhost:3000"
    )


@given(st.text(max_size=80))
@settings(max_examples=500, deadline=None)
def test_any_text_is_an_origin_or_refused_with_a_reason(text):
    try:
        origin = normalise_origin(text)
    except InvalidOrigin as error:
        assert str(error)
    else:  # what reaches the CSP header has no separators a policy could be smuggled with
        assert origin.startswith(("http://", "https://"))
        assert not any(c in origin for c in " ;,'\"\n\t")
        assert normalise_origin(origin) == origin
