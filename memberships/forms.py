"""Forms of memberships' back office: pass offers, pass settings, credit adjustments, booking a
customer with a credit."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from common.money import MoneyError, parse_major_units
from scheduling.models import Occurrence, Service

from .models import PassOffer, PassRefundMode, ValidityStart


class PassOfferForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"))
    description = forms.CharField(
        required=False, label=_("Description"), widget=forms.Textarea(attrs={"rows": 3})
    )
    credits = forms.IntegerField(
        min_value=1, max_value=500, label=_("Credits"), help_text=_("One credit = one booking")
    )
    validity_days = forms.IntegerField(min_value=1, max_value=3660, label=_("Valid for (days)"))
    validity_starts = forms.ChoiceField(choices=ValidityStart.choices, label=_("Counted"))
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        label=_("Services"),
        help_text=_("The services and classes the pass pays for"),
    )
    price = forms.CharField(max_length=20, label=_("Price"), help_text=_("For example 120.00"))
    new_customers_only = forms.BooleanField(required=False, label=_("New customers only"))
    per_customer_limit = forms.IntegerField(
        required=False, min_value=1, max_value=1000, label=_("Limit per customer"),
        help_text=_("Empty: no limit"),
    )  # fmt: skip

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
            raise forms.ValidationError(_("The price must be greater than zero."))
        return amount


class PassSettingsForm(forms.Form):
    refund_mode = forms.ChoiceField(
        choices=PassRefundMode.choices, widget=forms.RadioSelect, label=_("Refund of a pass")
    )


class CreditAdjustForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-500, max_value=500, label=_("Credits"),
        help_text=_("Positive adds, negative removes"),
    )  # fmt: skip
    reason = forms.CharField(max_length=300, label=_("Reason"))


class CreditBookingForm(forms.Form):
    """A time (appointments) or a session (classes), in the business's time zone."""

    service = forms.ModelChoiceField(queryset=Service.objects.none(), label=_("Service"))
    starts_at = forms.DateTimeField(
        required=False, label=_("Time"), help_text=_("For appointments: YYYY-MM-DD HH:MM")
    )
    occurrence = forms.ModelChoiceField(
        queryset=Occurrence.objects.none(), required=False, label=_("Session (classes)")
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
            self.add_error("occurrence", _("Choose one of the class's sessions."))
        if service.capacity == 1 and data.get("starts_at") is None:
            self.add_error("starts_at", _("Give the time of the appointment."))
        return data


class MembershipOfferForm(forms.Form):
    """A recurring membership offer (memberships/views/memberships.py)."""

    name = forms.CharField(max_length=120, label=_("Name"))
    description = forms.CharField(
        required=False, label=_("Description"), widget=forms.Textarea(attrs={"rows": 3})
    )
    price = forms.CharField(
        max_length=20, label=_("Price"), help_text=_("Per period, for example 59.00")
    )
    interval = forms.ChoiceField(
        choices=[("week", _("Weekly")), ("month", _("Monthly")), ("year", _("Yearly"))],
        label=_("Billed"),
    )
    credits_per_period = forms.IntegerField(
        required=False, min_value=1, max_value=1000, label=_("Credits per period"),
        help_text=_("Empty: unlimited"),
    )  # fmt: skip
    cap_per_day = forms.IntegerField(
        required=False, min_value=1, max_value=50, label=_("Cap per day"),
        help_text=_("Unlimited only: bookings per day"),
    )  # fmt: skip
    cap_per_week = forms.IntegerField(
        required=False, min_value=1, max_value=100, label=_("Cap per week"),
        help_text=_("Unlimited only: bookings per week"),
    )  # fmt: skip
    rollover_max = forms.IntegerField(
        min_value=0, max_value=1000, initial=0, label=_("Roll over up to"),
        help_text=_("Unused credits carried to the next period (0: none)"),
    )  # fmt: skip
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        label=_("Services"),
        help_text=_("The services the credits pay for"),
    )
    joining_fee = forms.CharField(
        max_length=20, required=False, label=_("Joining fee"),
        help_text=_("Billed once with the first period (empty: none)"),
    )  # fmt: skip
    minimum_periods = forms.IntegerField(
        min_value=0, max_value=36, initial=0, label=_("Minimum commitment (periods)"),
        help_text=_("A cancellation takes effect at the end of the commitment (0: none)"),
    )  # fmt: skip
    member_discount_percent = forms.IntegerField(
        required=False, min_value=1, max_value=99, label=_("Member discount (%)"),
        help_text=_("A percentage off the price of the services the membership does not cover, "
                    "for active members signed in to their account (empty: none)"),
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
            raise forms.ValidationError(_("The amount must be greater than zero."))
        return amount

    def clean_price(self) -> int:
        return self._amount("price", required=True)

    def clean_joining_fee(self) -> int:
        return self._amount("joining_fee", required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("credits_per_period") and (data.get("cap_per_day") or data.get("cap_per_week")):
            self.add_error("cap_per_day", _("Caps apply to unlimited memberships only."))
        if not data.get("credits_per_period") and data.get("rollover_max"):
            self.add_error("rollover_max", _("An unlimited membership has nothing to roll over."))
        return data
