"""Logo checks from the bytes alone (pure module)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widgets.logo import MAX_BYTES, LogoRejected, inspect_logo

from .images import jpeg_header_only, png


def test_a_real_png_is_accepted_with_its_size():
    info = inspect_logo(png(120, 40), declared_name="logo.png")
    assert (info.content_type, info.width, info.height) == ("image/png", 120, 40)


def test_a_jpeg_is_accepted_with_its_size():
    info = inspect_logo(jpeg_header_only(300, 100), declared_name="logo.jpg")
    assert (info.content_type, info.width, info.height) == ("image/jpeg", 300, 100)


def test_a_text_file_named_png_is_refused():
    with pytest.raises(LogoRejected, match="not a PNG or JPEG"):
        inspect_logo(b"hello, I am not an image" * 10, declared_name="logo.png")


def test_a_png_with_a_corrupted_header_is_refused():
    data = bytearray(png())
    data[17] ^= 0xFF  # width byte: the IHDR checksum no longer matches
    with pytest.raises(LogoRejected, match="checksum"):
        inspect_logo(bytes(data))


def test_a_truncated_png_is_refused():
    with pytest.raises(LogoRejected, match="incomplete"):
        inspect_logo(png()[:-12])


def test_svg_is_refused_with_a_reason_even_when_renamed():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'
    with pytest.raises(LogoRejected, match="SVG logos are not accepted"):
        inspect_logo(svg, declared_name="logo.png")
    with pytest.raises(LogoRejected, match="SVG"):
        inspect_logo(png(), declared_name="logo.svg")


def test_too_many_pixels_is_refused():
    with pytest.raises(LogoRejected, match="at most 2000×2000"):
        inspect_logo(png(2001, 10 + 16))
    with pytest.raises(LogoRejected, match="at least 16×16"):
        inspect_logo(png(8, 8))


def test_too_large_a_file_is_refused():
    padded = png() + b"\x00" * MAX_BYTES
    with pytest.raises(LogoRejected, match="at most 512 KB"):
        inspect_logo(padded)


def test_an_empty_file_is_refused():
    with pytest.raises(LogoRejected, match="empty"):
        inspect_logo(b"")


@given(st.binary(max_size=2048), st.sampled_from(["", "logo.png", "logo.jpg"]))
@settings(max_examples=300, deadline=None)
def test_any_bytes_are_accepted_or_refused_with_a_reason(data, name):
    for prefix in (b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"):
        try:
            info = inspect_logo(prefix + data, declared_name=name)
        except LogoRejected as error:
            assert str(error)
        else:
            assert 16 <= info.width <= 2000 and 16 <= info.height <= 2000
