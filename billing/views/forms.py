"""Forms of the "Plan and billing" page."""

from __future__ import annotations

import re

from django import forms

from ..models import BillingInterval, Plan


class PlanChoiceForm(forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.on_sale().order_by("display_order", "monthly_price_minor"),
        to_field_name="code",
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the plans."},
    )
    interval = forms.ChoiceField(
        choices=BillingInterval.choices,
        widget=forms.RadioSelect,
        initial=BillingInterval.MONTH,
        error_messages={"invalid_choice": "Choose monthly or yearly."},
    )


class BillingDetailsForm(forms.Form):
    name = forms.CharField(max_length=200, label="Billing name")
    line1 = forms.CharField(max_length=200, label="Address")
    line2 = forms.CharField(max_length=200, required=False, label="Address (line 2)")
    postal_code = forms.CharField(max_length=20, label="Postal code")
    city = forms.CharField(max_length=100)
    country = forms.RegexField(
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        label="Country code",
        help_text="Two letters, for example FR.",
        error_messages={"invalid": "Give the two-letter country code, for example FR."},
    )

    vat_number = forms.CharField(
        max_length=20,
        required=False,
        label="VAT number",
        help_text="EU VAT number with its country prefix, for example FR40303265045. Optional.",
    )

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).upper()

    def clean_vat_number(self) -> str:
        """The shape only (Stripe checks the number itself): prefix and 2 to 13 characters."""
        value = re.sub(r"[\s.-]", "", str(self.cleaned_data["vat_number"])).upper()
        if value and not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", value):
            raise forms.ValidationError(
                "Give the VAT number with its country prefix, for example FR40303265045."
            )
        return value
