"""`{% money amount_minor currency %}` for memberships' templates (common.money's format, in
the active language when it has one, else English)."""

from django import template
from django.utils import translation

from common.money import Money, UnsupportedLocale, format_money

register = template.Library()


@register.simple_tag
def money(amount_minor: int, currency: str) -> str:
    value = Money(int(amount_minor), currency)
    try:
        return format_money(value, locale=translation.get_language() or "en")
    except UnsupportedLocale:
        return format_money(value, locale="en")
