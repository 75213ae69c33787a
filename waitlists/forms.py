"""Forms of the waitlist: the customer's join form (shown by the widget's page) and the team's
settings and offer-by-hand forms. Rules live in the services they call."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.models import Occurrence, Service, StaffMember

from .models import AcceptanceMode, WaitlistSettings
from .payment import saved_card_charger

ANYONE = ""


class JoinForm(forms.Form):
    """A class: one of its full sessions. An appointment: a day, anyone or one person, and
    optionally a window ("between 14:00 and 18:00")."""

    occurrence = forms.TypedChoiceField(label=_("Session"), coerce=int, required=False,
                                        widget=forms.RadioSelect)  # fmt: skip
    day = forms.DateField(label=_("Day"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    staff = forms.ChoiceField(label=_("With"), required=False)
    window_start = forms.TimeField(label=_("From (optional)"), required=False,
                                   widget=forms.TimeInput(attrs={"type": "time"}))  # fmt: skip
    window_end = forms.TimeField(label=_("Until (optional)"), required=False,
                                 widget=forms.TimeInput(attrs={"type": "time"}))  # fmt: skip
    name = forms.CharField(label=_("Name"), max_length=150,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))  # fmt: skip
    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))  # fmt: skip

    card_consent = forms.BooleanField(label=_("I agree"), required=True, error_messages={
        "required": _("Please tick the box to agree to the fees, or choose another service."),
    })  # fmt: skip

    def __init__(self, *args: Any, service: Service, sessions: list[Occurrence], zone: ZoneInfo,
                 card_terms: dict[str, object] | None = None, **kwargs: Any) -> None:  # fmt: skip
        """`card_terms`: the service asks for a card on file (waitlists.join_cards): the form
        asks for consent to the fees, whose sentence the page shows above the box."""
        super().__init__(*args, **kwargs)
        self.service = service
        self.card_terms = card_terms
        if card_terms is None:
            del self.fields["card_consent"]
        self.is_class = service.capacity > 1
        occurrence_field = self.fields["occurrence"]
        assert isinstance(occurrence_field, forms.TypedChoiceField)
        occurrence_field.choices = [
            (s.pk, f"{s.starts_at.astimezone(zone):%a %d %b %Y, %H:%M} · {s.staff.display_name}")
            for s in sessions
        ]
        staff_field = self.fields["staff"]
        assert isinstance(staff_field, forms.ChoiceField)
        staff_field.choices = [(ANYONE, _("Anyone available"))] + [
            (str(m.pk), m.display_name) for m in service.staff.filter(is_active=True)
        ]
        if self.is_class:
            for name in ("day", "staff", "window_start", "window_end"):
                del self.fields[name]
            occurrence_field.required = True
        else:
            del self.fields["occurrence"]
            day_field = self.fields["day"]
            day_field.required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("window_start"), data.get("window_end")
        if isinstance(start, time) and isinstance(end, time) and end <= start:
            self.add_error("window_end", _("The end of the window must come after its start."))
        return data

    def staff_member(self) -> StaffMember | None:
        value = self.cleaned_data.get("staff")
        return StaffMember.objects.filter(pk=int(value)).first() if value else None


class SettingsForm(forms.ModelForm):
    class Meta:
        model = WaitlistSettings
        fields = ["is_enabled", "offer_minutes", "offers_at_once", "mode"]

    def clean_mode(self) -> str:
        mode = self.cleaned_data["mode"]
        if mode == AcceptanceMode.AUTOMATIC and saved_card_charger() is None:
            raise forms.ValidationError(
                "Automatic booking charges a saved card: it needs cards on file, which this "
                "installation does not have yet."
            )
        return mode


class OfferByHandForm(forms.Form):
    """For a day's request: the time to offer and who does it (a session needs neither)."""

    starts_at = forms.DateTimeField(
        label="Time to offer",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    staff = forms.ModelChoiceField(queryset=StaffMember.objects.filter(is_active=True),
                                   required=False, label="With")  # fmt: skip

    def start_in(self, zone: ZoneInfo) -> datetime | None:
        value = self.cleaned_data.get("starts_at")
        if value is None:
            return None
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
