"""The owner's dashboard (issue #13): figures and charts of the landing page, aggregated in SQL
in the business's time zone. See docs/dashboard.md."""

from __future__ import annotations

from typing import Any

from tenants.http import MemberRequest

from .page import dashboard_data
from .periods import BadDashboardQuery


def dashboard_context(request: MemberRequest) -> dict[str, Any] | None:
    """The dashboard's template context for the landing page; {"error": ...} for a bad query."""
    try:
        return dashboard_data(request)
    except BadDashboardQuery as error:
        return {"error": str(error)}
