"""WCAG contrast arithmetic of the widget theme (pure module)."""

import pytest

from widgets.contrast import (
    InvalidColour,
    contrast_ratio,
    contrast_warnings,
    parse_hex_colour,
    relative_luminance,
    text_colour_on,
)


def test_black_on_white_is_21_to_1_and_order_does_not_matter():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)


def test_known_ratios_from_the_wcag_examples():
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # passes AA
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # fails AA
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000") == 0.0


@pytest.mark.parametrize(
    ("given", "expected"),
    [("#2F5D50", "#2f5d50"), ("2f5d50", "#2f5d50"), ("#abc", "#aabbcc"), (" #ABC ", "#aabbcc")],
)
def test_colours_are_normalised(given, expected):
    assert parse_hex_colour(given) == expected


@pytest.mark.parametrize("bad", ["", "red", "#12345", "#1234567", "#ggg000", "rgb(1,2,3)", None])
def test_malformed_colours_are_refused(bad):
    with pytest.raises(InvalidColour):
        parse_hex_colour(bad)


def test_text_on_a_colour_is_white_or_ink_whichever_reads_better():
    assert text_colour_on("#2f5d50") == "#ffffff"
    assert text_colour_on("#ffd33d") == "#1f2328"


def test_default_theme_has_no_contrast_warning():
    assert contrast_warnings(primary="#2f5d50", accent="#b3541e") == []


def test_a_light_colour_is_flagged_with_its_ratio():
    [warning] = contrast_warnings(primary="#2f5d50", accent="#f4a261")
    assert warning.colour_name == "accent"
    assert warning.ratio < 4.5
    assert warning.ratio_text == f"{warning.ratio:.2f}:1"


def test_mid_grey_fails_both_as_text_on_white_and_as_a_background():
    names = [w.colour_name for w in contrast_warnings(primary="#808080", accent="#999999")]
    assert names == ["primary", "accent"]
