"""Colour contrast of the booking widget's theme, by the WCAG 2.x formulas (pure module).

The widget puts white or near-black text on the brand colours (whichever reads better), and uses
the brand colours themselves as text and link colours on a white page; a colour that cannot carry
text on white at 4.5:1 (AA, normal text) earns the owner a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AA_NORMAL_TEXT",
    "ContrastWarning",
    "InvalidColour",
    "contrast_ratio",
    "contrast_warnings",
    "parse_hex_colour",
    "relative_luminance",
    "text_colour_on",
]

AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"
INK = "#1f2328"  # the page's body text colour
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class InvalidColour(ValueError):
    """Not a `#rrggbb` (or `#rgb`) colour; the message is safe to show an owner."""


def parse_hex_colour(value: str) -> str:
    """`#RGB`, `#rrggbb` or without `#` → canonical lower-case `#rrggbb`."""
    match = _HEX.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidColour("Enter a colour as #rrggbb, for example #2f5d50.")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return f"#{digits}"


def _channel(byte: int) -> float:
    value = byte / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    digits = parse_hex_colour(colour)[1:]
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """From 1 (same luminance) to 21 (black on white); order does not matter."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: str) -> str:
    """White or the page's ink, whichever contrasts more with `background`."""
    if contrast_ratio(background, WHITE) >= contrast_ratio(background, INK):
        return WHITE
    return INK


@dataclass(frozen=True, slots=True)
class ContrastWarning:
    colour_name: str  # "primary" | "accent"
    ratio: float
    needed: float = AA_NORMAL_TEXT

    @property
    def ratio_text(self) -> str:
        return f"{self.ratio:.2f}:1"


def contrast_warnings(*, primary: str, accent: str) -> list[ContrastWarning]:
    """One warning per brand colour whose text on white or text on it fails AA (4.5:1)."""
    found = []
    for name, colour in (("primary", primary), ("accent", accent)):
        ratio = min(
            contrast_ratio(colour, WHITE),
            contrast_ratio(colour, text_colour_on(colour)),
        )
        if ratio < AA_NORMAL_TEXT:
            found.append(ContrastWarning(colour_name=name, ratio=round(ratio, 2)))
    return found
