"""Branding and embedding settings of a business's booking widget (tenant schema, one row)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FontFamily(models.TextChoices):
    """Font stacks installed on visitors' devices: nothing is downloaded, nothing tracks."""

    SYSTEM = "system", "System sans-serif"
    HUMANIST = "humanist", "Humanist sans-serif"
    SERIF = "serif", "Serif"
    ROUNDED = "rounded", "Rounded"
    MONOSPACE = "monospace", "Monospace"


FONT_STACKS = {
    FontFamily.SYSTEM: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    FontFamily.HUMANIST: 'Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", sans-serif',
    FontFamily.SERIF: 'Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif',
    FontFamily.ROUNDED: 'ui-rounded, "Hiragino Maru Gothic ProN", Quicksand, Comfortaa, '
    "Manjari, Calibri, sans-serif",
    FontFamily.MONOSPACE: 'ui-monospace, "Cascadia Code", Menlo, Consolas, "DejaVu Sans Mono", '
    "monospace",
}


class CornerStyle(models.TextChoices):
    SQUARE = "square", "Square"
    ROUNDED = "rounded", "Rounded"
    PILL = "pill", "Pill"


CORNER_RADII = {CornerStyle.SQUARE: "2px", CornerStyle.ROUNDED: "8px", CornerStyle.PILL: "999px"}


class WidgetLanguage(models.TextChoices):
    ENGLISH = "en", "English"
    FRENCH = "fr", "Français"


class Branding(models.Model):
    """Look of the booking page and widget, and the websites allowed to embed it.

    The logo is kept in the row (at most 512 KB, checked by widgets.logo): one tenant-scoped
    place, no shared media directory to isolate per tenant, served by a cacheable view.
    """

    logo = models.BinaryField(blank=True, default=b"")
    logo_content_type = models.CharField(max_length=32, blank=True)
    logo_width = models.PositiveIntegerField(default=0)
    logo_height = models.PositiveIntegerField(default=0)
    logo_version = models.CharField(max_length=16, blank=True)  # content hash, for cache busting
    primary_colour = models.CharField(max_length=7, default="#2f5d50")
    accent_colour = models.CharField(max_length=7, default="#b3541e")
    font_family = models.CharField(
        max_length=16, choices=FontFamily.choices, default=FontFamily.SYSTEM
    )
    corner_style = models.CharField(
        max_length=8, choices=CornerStyle.choices, default=CornerStyle.ROUNDED
    )
    button_label = models.CharField(
        max_length=40, blank=True, help_text=_("Text of the popup button; empty: “Book now”.")
    )
    default_language = models.CharField(
        max_length=5, choices=WidgetLanguage.choices, default=WidgetLanguage.ENGLISH
    )
    welcome_text = models.TextField(max_length=600, blank=True)
    address = models.CharField(max_length=300, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    # Normalised origins (widgets.origins): "https://www.example.com", "http://localhost:3000".
    allowed_origins = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Branding"

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_version)

    @property
    def font_stack(self) -> str:
        return FONT_STACKS[FontFamily(self.font_family)]

    @property
    def corner_radius(self) -> str:
        return CORNER_RADII[CornerStyle(self.corner_style)]
