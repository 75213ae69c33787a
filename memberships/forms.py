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
