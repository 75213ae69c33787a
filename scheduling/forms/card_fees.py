"""The card-on-file fields of the service form and of the booking settings (a form of their
own, shown on the same pages with the prefix `fees`)."""

from __future__ import annotations

from django import forms

from scheduling.models import CardFeeFields, CardOnFile
from scheduling.services.card_fee_settings import CardFees

from .catalogue import _parse_amount, major_units

FEE_KINDS = [("", "No fee"), ("fixed", "A fixed amount"), ("percent", "A percentage of the price")]


class CardFeesForm(forms.Form):
    no_show_fee_kind = forms.ChoiceField(label="No-show fee", choices=FEE_KINDS, required=False)
    no_show_fee_amount = forms.CharField(label="No-show fee amount", max_length=24, required=False)
    no_show_fee_percent = forms.IntegerField(
        label="No-show fee (% of the price)", min_value=1, max_value=100, required=False
    )
    late_cancel_fee_kind = forms.ChoiceField(
        label="Late-cancellation fee",
        choices=FEE_KINDS,
        required=False,
        help_text="Charged when the customer cancels inside the cancellation policy's window "
        "(less notice than its full-refund tier).",
    )
    late_cancel_fee_amount = forms.CharField(
        label="Late-cancellation fee amount", max_length=24, required=False
    )
    late_cancel_fee_percent = forms.IntegerField(
        label="Late-cancellation fee (% of the price)", min_value=1, max_value=100, required=False
    )

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["no_show_fee_amount"].label = f"No-show fee amount ({currency})"
        self.fields["late_cancel_fee_amount"].label = f"Late-cancellation fee amount ({currency})"

    @staticmethod
    def initial_fees(row: CardFeeFields, currency: str) -> dict:
        initial: dict = {}
        for fee in ("no_show", "late_cancel"):
            fixed = getattr(row, f"{fee}_fee_fixed_minor")
            percent = getattr(row, f"{fee}_fee_percent")
            initial[f"{fee}_fee_kind"] = (
                "fixed" if fixed is not None else "percent" if percent is not None else ""
            )
            initial[f"{fee}_fee_amount"] = major_units(fixed, currency) if fixed is not None else ""
            initial[f"{fee}_fee_percent"] = percent
        return initial

    def clean(self) -> dict:
        data = super().clean() or {}
        for fee in ("no_show", "late_cancel"):
            kind = data.get(f"{fee}_fee_kind")
            text = (data.get(f"{fee}_fee_amount") or "").strip()
            if kind != "fixed":
                self.errors.pop(f"{fee}_fee_amount", None)
            if kind != "percent":
                self.errors.pop(f"{fee}_fee_percent", None)
            if kind == "fixed":
                if not text:
                    self.add_error(f"{fee}_fee_amount", "Enter the fee amount.")
                else:
                    try:
                        data[f"{fee}_fee_fixed_minor"] = _parse_amount(text, self.currency)
                    except forms.ValidationError as error:
                        self.add_error(f"{fee}_fee_amount", error)
            elif kind == "percent" and data.get(f"{fee}_fee_percent") is None:
                if f"{fee}_fee_percent" not in self.errors:
                    self.add_error(f"{fee}_fee_percent", "Enter the fee percentage.")
        return data

    def fees(self) -> CardFees:
        data = self.cleaned_data

        def pick(fee: str, kind: str) -> int | None:
            if data.get(f"{fee}_fee_kind") != kind:
                return None
            return data.get(f"{fee}_fee_fixed_minor" if kind == "fixed" else f"{fee}_fee_percent")

        return CardFees(
            no_show_fee_fixed_minor=pick("no_show", "fixed"),
            no_show_fee_percent=pick("no_show", "percent"),
            late_cancel_fee_fixed_minor=pick("late_cancel", "fixed"),
            late_cancel_fee_percent=pick("late_cancel", "percent"),
        )


class ServiceCardFeesForm(CardFeesForm):
    card_on_file = forms.ChoiceField(
        label="Card on file",
        choices=CardOnFile.choices,
        initial=CardOnFile.BUSINESS_DEFAULT,
        required=False,  # not posted (an older form, a script): the business default
        widget=forms.RadioSelect,
        help_text="The customer saves a card at booking (nothing is charged) and agrees to the "
        "fees below, charged only after a no-show or a late cancellation.",
    )
    field_order = ["card_on_file"]

    def clean_card_on_file(self) -> str:
        return self.cleaned_data.get("card_on_file") or CardOnFile.BUSINESS_DEFAULT


class BusinessCardFeesForm(CardFeesForm):
    card_on_file_required = forms.BooleanField(
        label="Ask for a card on file by default",
        required=False,
        help_text="For services paid at the venue or free that follow the business default.",
    )
    field_order = ["card_on_file_required"]
