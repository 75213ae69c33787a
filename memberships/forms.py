"""Forms of memberships' back office: pass offers, pass settings, credit adjustments, booking a
customer with a credit."""

from __future__ import annotations

from django import forms

from common.money import MoneyError, parse_major_units
from scheduling.models import Occurrence, Service

from .models import PassOffer, PassRefundMode, ValidityStart


class PassOfferForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    credits = forms.IntegerField(min_value=1, max_value=500, help_text="One credit = one booking")
    validity_days = forms.IntegerField(min_value=1, max_value=3660, label="Valid for (days)")
    validity_starts = forms.ChoiceField(choices=ValidityStart.choices, label="Counted")
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(), help_text="The services and classes the pass pays for"
    )
    price = forms.CharField(max_length=20, help_text="For example 120.00")
    new_customers_only = forms.BooleanField(required=False)
    per_customer_limit = forms.IntegerField(
        required=False, min_value=1, max_value=1000, help_text="Empty: no limit"
    )

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = Service.objects.filter(is_active=True)

    @classmethod
    def initial_of(cls, offer: PassOffer) -> dict:
        from common.money import Money

        exponent = Money(offer.price_minor, offer.currency).exponent
        price = f"{offer.price_minor / 10**exponent:.{exponent}f}"
        return {
            "name": offer.name, "description": offer.description, "credits": offer.credits,
            "validity_days": offer.validity_days, "validity_starts": offer.validity_starts,
            "services": list(offer.services.values_list("pk", flat=True)), "price": price,
            "new_customers_only": offer.new_customers_only,
            "per_customer_limit": offer.per_customer_limit,
        }  # fmt: skip

    def clean_price(self) -> int:
        try:
            amount = parse_major_units(text=self.cleaned_data["price"], currency=self.currency)
        except MoneyError as error:
            raise forms.ValidationError(str(error)) from error
        if amount <= 0:
            raise forms.ValidationError("The price must be greater than zero.")
        return amount


class PassSettingsForm(forms.Form):
    refund_mode = forms.ChoiceField(
        choices=PassRefundMode.choices, widget=forms.RadioSelect, label="Refund of a pass"
    )


class CreditAdjustForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-500, max_value=500, label="Credits", help_text="Positive adds, negative removes"
    )
    reason = forms.CharField(max_length=300)


class CreditBookingForm(forms.Form):
    """A time (appointments) or a session (classes), in the business's time zone."""

    service = forms.ModelChoiceField(queryset=Service.objects.none())
    starts_at = forms.DateTimeField(
        required=False, label="Time", help_text="For appointments: YYYY-MM-DD HH:MM"
    )
    occurrence = forms.ModelChoiceField(
        queryset=Occurrence.objects.none(), required=False, label="Session (classes)"
    )

    def __init__(self, *args, sessions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        service = self.fields["service"]
        occurrence = self.fields["occurrence"]
        assert isinstance(service, forms.ModelChoiceField)
        assert isinstance(occurrence, forms.ModelChoiceField)
        service.queryset = Service.objects.filter(is_active=True)
        occurrence.queryset = sessions

    def clean(self) -> dict:
        data = super().clean() or {}
        service = data.get("service")
        if service is None:
            return data
        if service.capacity > 1 and data.get("occurrence") is None:
            self.add_error("occurrence", "Choose one of the class's sessions.")
        if service.capacity == 1 and data.get("starts_at") is None:
            self.add_error("starts_at", "Give the time of the appointment.")
        return data


class MembershipOfferForm(forms.Form):
    """A recurring membership offer (memberships/views/memberships.py)."""

    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    price = forms.CharField(max_length=20, help_text="Per period, for example 59.00")
    interval = forms.ChoiceField(
        choices=[("week", "Weekly"), ("month", "Monthly"), ("year", "Yearly")], label="Billed"
    )
    credits_per_period = forms.IntegerField(
        required=False, min_value=1, max_value=1000, label="Credits per period",
        help_text="Empty: unlimited",
    )  # fmt: skip
    cap_per_day = forms.IntegerField(
        required=False, min_value=1, max_value=50, help_text="Unlimited only: bookings per day"
    )
    cap_per_week = forms.IntegerField(
        required=False, min_value=1, max_value=100, help_text="Unlimited only: bookings per week"
    )
    rollover_max = forms.IntegerField(
        min_value=0, max_value=1000, initial=0, label="Roll over up to",
        help_text="Unused credits carried to the next period (0: none)",
    )  # fmt: skip
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(), help_text="The services the credits pay for"
    )
    joining_fee = forms.CharField(
        max_length=20, required=False, help_text="Billed once with the first period (empty: none)"
    )
    minimum_periods = forms.IntegerField(
        min_value=0, max_value=36, initial=0, label="Minimum commitment (periods)",
        help_text="A cancellation takes effect at the end of the commitment (0: none)",
    )  # fmt: skip
    member_discount_percent = forms.IntegerField(
        required=False, min_value=1, max_value=99, label="Member discount (%)",
        help_text="A percentage off the price of the services the membership does not cover, for "
        "active members signed in to their account (empty: none)",
    )  # fmt: skip

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = Service.objects.filter(is_active=True)

    def _amount(self, field: str, *, required: bool) -> int:
        text = (self.cleaned_data.get(field) or "").strip()
        if not text and not required:
            return 0
        try:
            amount = parse_major_units(text=text, currency=self.currency)
        except MoneyError as error:
            raise forms.ValidationError(str(error)) from error
        if amount < 0 or (required and amount == 0):
            raise forms.ValidationError("The amount must be greater than zero.")
        return amount

    def clean_price(self) -> int:
        return self._amount("price", required=True)

    def clean_joining_fee(self) -> int:
        return self._amount("joining_fee", required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("credits_per_period") and (data.get("cap_per_day") or data.get("cap_per_week")):
            self.add_error("cap_per_day", "Caps apply to unlimited memberships only.")
        if not data.get("credits_per_period") and data.get("rollover_max"):
            self.add_error("rollover_max", "An unlimited membership has nothing to roll over.")
        return data
