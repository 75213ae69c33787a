"""What the landing page asks of widgets (a sibling it may not import): the business's public
face. saas_platform, which wires everything, registers the answer in its AppConfig.ready()."""

from __future__ import annotations

from typing import Protocol

from django.http import HttpRequest


class Storefront(Protocol):
    def is_branded(self) -> bool:
        """The current business changed its booking page's look (logo, colours or welcome)."""

    def embedding_websites(self) -> list[str]:
        """The websites allowed to show the current business's widget."""

    def embed_snippet(self, request: HttpRequest) -> str:
        """The one line of HTML that shows the widget on a website."""


class NoStorefront:
    """Without widgets: no branding, no embedding."""

    def is_branded(self) -> bool:
        return False

    def embedding_websites(self) -> list[str]:
        return []

    def embed_snippet(self, request: HttpRequest) -> str:
        return ""


_storefront: Storefront = NoStorefront()


def register_storefront(storefront: Storefront) -> None:
    global _storefront
    _storefront = storefront


def storefront() -> Storefront:
    return _storefront
