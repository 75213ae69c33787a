"""Forms of the payments back office."""

from __future__ import annotations

from django import forms
from django.db.models.functions import Upper
from django.utils.translation import gettext, gettext_lazy

from common.money import MoneyError, parse_major_units
from scheduling.models import Service

from .models import PromoCode, PromoKind


class PromoCodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{3,40}$",
        label=gettext_lazy("Code"),
        error_messages={
            "invalid": gettext_lazy("Use 3 to 40 letters, digits, dashes or underscores.")
        },
    )
    kind = forms.ChoiceField(choices=PromoKind.choices)
    value = forms.CharField(
        max_length=20, help_text=gettext_lazy("A percentage (1–99) or an amount such as 10.00")
    )
    valid_from = forms.DateTimeField(required=False)
    valid_until = forms.DateTimeField(required=False)
    max_redemptions = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
    max_per_customer = forms.IntegerField(required=False, min_value=1, max_value=1000)
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        required=False,
        help_text=gettext_lazy("None selected: every service"),
    )

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = Service.objects.filter(
            payment_mode__in=("online_full", "online_deposit")
        )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].upper()
        if PromoCode.objects.annotate(upper=Upper("code")).filter(upper=code).exists():
            raise forms.ValidationError(gettext("A promo code with this name already exists."))
        return code

    def clean(self) -> dict:
        data = super().clean() or {}
        kind, value = data.get("kind"), (data.get("value") or "").strip()
        if kind == PromoKind.PERCENT:
            if not value.isdigit() or not 1 <= int(value) <= 99:
                self.add_error("value", gettext("A percentage is a whole number from 1 to 99."))
            else:
                data["percent"], data["amount_minor"] = int(value), None
        elif kind == PromoKind.FIXED:
            try:
                amount = parse_major_units(text=value, currency=self.currency)
            except MoneyError as error:
                self.add_error("value", str(error))
            else:
                if amount <= 0:
                    self.add_error("value", gettext("The amount must be more than zero."))
                data["percent"], data["amount_minor"] = None, amount
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", gettext("The end must be after the start."))
        return data
