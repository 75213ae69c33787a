"""The dashboard's 4-week forecast: a least-squares straight line through the last weeks' booking
counts, carried forward (pure but for the translation of its explanation). Said on the page in
these words."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

FORECAST_WEEKS = 4
HOW_IT_IS_COMPUTED = gettext_lazy(
    "A straight line fitted (least squares) through the bookings of the last 12 weeks, "
    "including the current one, continued for 4 weeks and rounded; never below zero. "
    "It knows nothing of holidays or seasons."
)


def linear_trend(history: list[int], *, weeks: int = FORECAST_WEEKS) -> list[int]:
    """The next `weeks` values of the least-squares line through `history` (x = 0, 1, ...)."""
    count = len(history)
    if count == 0:
        return [0] * weeks
    if count == 1:
        return [max(0, history[0])] * weeks
    mean_x = (count - 1) / 2
    mean_y = sum(history) / count
    spread = sum((x - mean_x) ** 2 for x in range(count))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(history)) / spread
    return [max(0, round(mean_y + slope * (count + step - mean_x))) for step in range(weeks)]
