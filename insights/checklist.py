"""The setup checklist of a new business (issue #18): steps that tick themselves from the real
state. Until it is built, there is no checklist."""

from __future__ import annotations

from typing import Any

from tenants.http import MemberRequest


def setup_checklist(request: MemberRequest) -> dict[str, Any] | None:
    """The checklist's template context for the landing page; None when there is none to show."""
    return None
