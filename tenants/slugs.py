"""Rules for a business's address slug and the schema name derived from it."""

import re

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
RESERVED_SLUGS = frozenset(
    {
        "www", "api", "admin", "console", "static", "media", "app", "mail", "smtp", "ftp",
        "status", "help", "support", "docs", "blog", "billing", "stripe", "webhooks", "public",
        "template", "tenant-template", "signup", "login", "account", "accounts", "dashboard",
        "creneau", "localhost", "widget", "cdn", "assets", "auth", "root", "system", "test",
    }
)  # fmt: skip


class InvalidSlug(ValueError):
    pass


def validate_slug(slug: str) -> None:
    if not SLUG_PATTERN.match(slug):
        raise InvalidSlug(
            "Use 1 to 40 lowercase letters, digits and hyphens, starting and ending with a "
            "letter or digit."
        )
    if "--" in slug:
        raise InvalidSlug("Use single hyphens only.")
    if slug in RESERVED_SLUGS:
        raise InvalidSlug(f"“{slug}” is reserved. Please choose another address.")


def schema_name_for_slug(slug: str) -> str:
    """`t_` keeps schema names clear of PostgreSQL's own (pg_*, public) and of leading digits."""
    return "t_" + slug.replace("-", "_")
