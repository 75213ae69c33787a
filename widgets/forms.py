"""Forms of the owner's branding and embed pages; checks live in the pure modules they call."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .contrast import InvalidColour, parse_hex_colour
from .logo import MAX_BYTES, LogoRejected, inspect_logo
from .models import Branding
from .origins import InvalidOrigin, parse_origins


class ColourInput(forms.TextInput):
    input_type = "color"


class BrandingForm(forms.ModelForm):
    logo_file = forms.FileField(
        required=False,
        label=_("Logo"),
        help_text=_("PNG or JPEG, at most 512 KB and 2000×2000 pixels. SVG is not accepted."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(required=False, label=_("Remove the current logo"))

    class Meta:
        model = Branding
        fields = [
            "primary_colour",
            "accent_colour",
            "font_family",
            "corner_style",
            "button_label",
            "default_language",
            "welcome_text",
            "address",
            "contact_phone",
            "contact_email",
        ]
        labels = {
            "primary_colour": _("Primary colour"),
            "accent_colour": _("Accent colour"),
            "font_family": _("Font"),
            "corner_style": _("Corners"),
            "button_label": _("Button wording"),
            "default_language": _("Default language"),
            "welcome_text": _("Welcome text"),
            "address": _("Address"),
            "contact_phone": _("Contact phone"),
            "contact_email": _("Contact email"),
        }
        widgets = {
            "primary_colour": ColourInput(),
            "accent_colour": ColourInput(),
            "welcome_text": forms.Textarea(attrs={"rows": 3, "maxlength": 600}),
        }

    logo_bytes: bytes | None = None

    def _clean_colour(self, name: str) -> str:
        try:
            return parse_hex_colour(self.cleaned_data.get(name) or "")
        except InvalidColour as error:
            raise forms.ValidationError(str(error), code="invalid_colour")

    def clean_primary_colour(self) -> str:
        return self._clean_colour("primary_colour")

    def clean_accent_colour(self) -> str:
        return self._clean_colour("accent_colour")

    def clean_logo_file(self):
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)d KB; logos may be at most %(max)d KB.")
                % {"size": upload.size // 1024, "max": MAX_BYTES // 1024},
                code="too_large",
            )
        data = upload.read()
        try:
            inspect_logo(data, declared_name=upload.name)
        except LogoRejected as error:
            raise forms.ValidationError(str(error), code="bad_logo")
        self.logo_bytes = data
        return upload


class EmbedForm(forms.Form):
    allowed_origins = forms.CharField(
        required=False,
        label=_("Websites allowed to embed your booking widget"),
        help_text=_(
            "One per line, as scheme://host[:port], e.g. https://www.example.com. "
            "Your own booking page is always allowed. At most 20."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
    )

    def clean_allowed_origins(self) -> list[str]:
        try:
            return parse_origins(self.cleaned_data["allowed_origins"].splitlines())
        except InvalidOrigin as error:
            raise forms.ValidationError(str(error), code="invalid_origin")


class CustomerSignInForm(forms.Form):
    """The customer's email, to receive a one-time sign-in link (widgets/views/account.py)."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
