"""`{% money amount_minor currency %}` for memberships' templates (common.money's format, in
the active language when it has one, else English), and billing intervals in that language."""

from django import template
from django.utils import translation
from django.utils.translation import gettext_lazy, ngettext

from common.money import Money, UnsupportedLocale, format_money

register = template.Library()


@register.simple_tag
def money(amount_minor: int, currency: str) -> str:
    value = Money(int(amount_minor), currency)
    try:
        return format_money(value, locale=translation.get_language() or "en")
    except UnsupportedLocale:
        return format_money(value, locale="en")


INTERVAL_NAMES = {
    "week": gettext_lazy("week"),
    "month": gettext_lazy("month"),
    "year": gettext_lazy("year"),
}


@register.filter
def interval_name(interval: str) -> str:
    """ "month" in the active language (a membership's billing interval)."""
    name = INTERVAL_NAMES.get(interval)
    return str(name) if name is not None else interval


@register.simple_tag
def interval_count(count: int, interval: str) -> str:
    """ "3 months" in the active language (a minimum commitment)."""
    count = int(count)
    if interval == "week":
        text = ngettext("%(count)d week", "%(count)d weeks", count)
    elif interval == "year":
        text = ngettext("%(count)d year", "%(count)d years", count)
    else:
        text = ngettext("%(count)d month", "%(count)d months", count)
    return text % {"count": count}
