"""Dashboard fixtures: the hand-built data set in tenant alpha (rolled back with the test) and
the dashboard's clock pinned to Thursday 2 April 2026, noon in Paris."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from insights.dashboard import page

# The browser test's server, Chromium and signed-in owner (module-scoped, only when asked for).
from tests.widgets.conftest import (  # noqa: F401
    alpha_catalogue,
    browser,
    live_site,
    owner_context,
)

from .dataset import NOW, build_dataset


@pytest.fixture
def pinned_clock(monkeypatch) -> None:
    monkeypatch.setattr(page, "now", lambda: NOW)


@pytest.fixture
def dataset(tenant_alpha, pinned_clock) -> dict[str, Any]:
    with tenant_context(tenant_alpha):
        data = build_dataset()
    connection.set_schema_to_public()
    return data


WEEK = {"period": "custom", "from": "2026-03-23", "to": "2026-03-29"}


def dashboard_of(client, **params) -> dict[str, Any]:
    response = client.get("/", {**WEEK, **params}, HTTP_ACCEPT_LANGUAGE="en-GB")
    assert response.status_code == 200, response.content[:500]
    return response.context["dashboard"]


def figure(dashboard: dict[str, Any], label: str) -> Any:
    found = [item for item in dashboard["figures"] if item["label"] == label]
    assert len(found) == 1, [item["label"] for item in dashboard["figures"]]
    return found[0]


def chart(dashboard: dict[str, Any], key: str):
    found = [table for table in dashboard["charts"] if table.key == key]
    assert len(found) == 1
    return found[0]
