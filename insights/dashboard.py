"""The owner's dashboard (issue #13): figures and charts of the landing page. Until it is built,
the landing page shows the sections only."""

from __future__ import annotations

from typing import Any

from tenants.http import MemberRequest


def dashboard_context(request: MemberRequest) -> dict[str, Any] | None:
    """The dashboard's template context for the landing page; None when there is none to show."""
    return None
