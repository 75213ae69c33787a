"""The Share panel: the hosted booking page's link, its QR code and the one-line embed."""

from __future__ import annotations

from typing import Any

import segno
from django.http import HttpRequest
from django.urls import reverse

from .ports import storefront


def share_panel(request: HttpRequest) -> dict[str, Any]:
    link = request.build_absolute_uri(reverse("book"))
    qr = segno.make(link, error="m")
    return {
        "link": link,
        "qr_svg": qr.svg_data_uri(scale=5, border=2),
        "qr_png": qr.png_data_uri(scale=10, border=2),
        "embed": storefront().embed_snippet(request),
    }
