"""Forms of signup, team management and the console."""

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from .models import Membership, Tenant, User
from .roles import ROLE_LABELS, Role, roles_a_member_may_grant
from .slugs import InvalidSlug, validate_slug
from .time_zones import all_time_zones, country_zones, zone_fits_country

CURRENCIES = [
    ("EUR", "Euro (EUR)"),
    ("USD", "US dollar (USD)"),
    ("GBP", "Pound sterling (GBP)"),
    ("CHF", "Swiss franc (CHF)"),
    ("CAD", "Canadian dollar (CAD)"),
    ("AUD", "Australian dollar (AUD)"),
    ("JPY", "Japanese yen (JPY)"),
    ("SEK", "Swedish krona (SEK)"),
    ("DKK", "Danish krone (DKK)"),
    ("NOK", "Norwegian krone (NOK)"),
]
COUNTRIES = [
    ("FR", "France"),
    ("BE", "Belgium"),
    ("CH", "Switzerland"),
    ("DE", "Germany"),
    ("ES", "Spain"),
    ("IT", "Italy"),
    ("NL", "Netherlands"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("US", "United States"),
    ("CA", "Canada"),
    ("AU", "Australia"),
    ("JP", "Japan"),
    ("SE", "Sweden"),
    ("DK", "Denmark"),
    ("NO", "Norway"),
]


# What a country sets when the business picks it: its currency and the booking page's language.
COUNTRY_DEFAULTS: dict[str, tuple[str, str]] = {
    "FR": ("EUR", "fr"), "BE": ("EUR", "fr"), "CH": ("CHF", "fr"), "DE": ("EUR", "en"),
    "ES": ("EUR", "en"), "IT": ("EUR", "en"), "NL": ("EUR", "en"), "GB": ("GBP", "en"),
    "IE": ("EUR", "en"), "US": ("USD", "en"), "CA": ("CAD", "en"), "AU": ("AUD", "en"),
    "JP": ("JPY", "en"), "SE": ("SEK", "en"), "DK": ("DKK", "en"), "NO": ("NOK", "en"),
}  # fmt: skip


def validate_time_zone(value: str) -> None:
    if value not in all_time_zones():
        raise ValidationError("Choose a time zone from the list (for example Europe/Paris).")


class SignupForm(forms.Form):
    business_name = forms.CharField(label=gettext_lazy("Business name"), max_length=120)
    slug = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=40,
        help_text=gettext_lazy(
            "Lowercase letters, digits and hyphens. Your booking page will live here."
        ),
    )
    owner_name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email"))
    password = forms.CharField(
        label=gettext_lazy("Password"), widget=forms.PasswordInput, strip=False
    )
    country = forms.ChoiceField(label=gettext_lazy("Country"), choices=COUNTRIES)
    currency = forms.ChoiceField(
        label=gettext_lazy("Currency"),
        choices=CURRENCIES,
        required=False,
        help_text=gettext_lazy("Set from the country; change it if needed."),
    )
    time_zone = forms.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="Start typing a city: Paris, New York, Sydney…",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    time_zone_confirmed = forms.BooleanField(
        required=False, label="Yes, keep this time zone", widget=forms.CheckboxInput
    )
    # Choices are filled by the signup view (the kinds are scheduling's: scheduling/starter.py).
    kind = forms.ChoiceField(
        label="Kind of business",
        required=False,
        choices=[],
        help_text="Optional: we add two or three example services and weekly hours you can edit.",
    )

    def __init__(self, *args, kinds: list[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.suggested_zones: list[str] = []
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", "Choose (optional)"), *(kinds or [])]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        try:
            validate_slug(slug)
        except InvalidSlug as error:
            raise ValidationError(str(error))
        if Tenant.objects.filter(slug=slug).exists():
            raise ValidationError(gettext_lazy("This address is already taken."))
        return slug

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                "An account with this email already exists. Sign in to add another business."
            )
        return email

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        country, zone = cleaned.get("country"), cleaned.get("time_zone")
        if country and not cleaned.get("currency"):
            cleaned["currency"] = COUNTRY_DEFAULTS.get(country, ("EUR", "en"))[0]
        if country:
            cleaned["language"] = COUNTRY_DEFAULTS.get(country, ("EUR", "en"))[1]
        # A zone that is UTC or another country's is asked about once: slots would be hours off.
        if country and zone and not zone_fits_country(zone, country):
            self.suggested_zones = country_zones(country)
            if not cleaned.get("time_zone_confirmed"):
                country_name = dict(COUNTRIES).get(country, country)
                suggestion = " or ".join(self.suggested_zones[:3]) or "your country's zone"
                self.add_error(
                    "time_zone",
                    f"{zone} is not a time zone of {country_name}: choose {suggestion}, "
                    'or tick "Yes, keep this time zone" if it is right.',
                )
        password = cleaned.get("password")
        if password:
            probe = User(email=cleaned.get("email", ""), full_name=cleaned.get("owner_name", ""))
            try:
                password_validation.validate_password(password, probe)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned


class TimeZoneForm(forms.Form):
    """The business's time zone, later: the same list and country check as at signup, and a
    confirmation when bookings are coming (the view says how they will be shown)."""

    time_zone = forms.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="Start typing a city: Paris, New York, Sydney…",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    confirmed = forms.BooleanField(
        required=False, label="Yes, change the time zone", widget=forms.CheckboxInput
    )

    def __init__(self, *args, country: str, current: str, upcoming: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country, self.current, self.upcoming = country, current, upcoming
        self.needs_confirmation = False

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        zone = cleaned.get("time_zone")
        if not zone or zone == self.current or cleaned.get("confirmed"):
            return cleaned
        problems = []
        if not zone_fits_country(zone, self.country):
            country_name = dict(COUNTRIES).get(self.country, self.country)
            problems.append(f"{zone} is not a time zone of {country_name}.")
        if self.upcoming:
            problems.append(f"{self.upcoming} upcoming booking(s) will show at other clock times.")
        if problems:
            self.needs_confirmation = True
            raise ValidationError(" ".join(problems) + ' Tick "Yes, change the time zone".')
        return cleaned


def _role_choices(granter_role: str) -> list[tuple[str, str]]:
    return [(role.value, ROLE_LABELS[role]) for role in roles_a_member_may_grant(granter_role)]


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[])

    def __init__(self, *args, granter_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = _role_choices(granter_role)
        role.initial = Role.STAFF.value


class RoleChangeForm(forms.Form):
    membership = forms.ModelChoiceField(queryset=Membership.objects.none())
    role = forms.ChoiceField(choices=[])

    def __init__(self, *args, granter_role: str, team, **kwargs):
        super().__init__(*args, **kwargs)
        membership, role = self.fields["membership"], self.fields["role"]
        assert isinstance(membership, forms.ModelChoiceField)
        assert isinstance(role, forms.ChoiceField)
        membership.queryset = team
        role.choices = _role_choices(granter_role)


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        probe = User(email=self.email, full_name=self.data.get("full_name", ""))
        password_validation.validate_password(password, probe)
        return password


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
