"""The back office's landing page: the setup checklist, the dashboard, the sections; and the
dashboard's live refresh, fragment and CSV downloads."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render

from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import role_allows
from tenants.views import SECTIONS

from .checklist import setup_checklist
from .dashboard import dashboard_context
from .dashboard.page import chart_builders, live_version, read_query, viewer_of
from .dashboard.periods import BadDashboardQuery

# The dashboard's scripts are files of this site (Chart.js vendored under static/insights/),
# its data in <script type="application/json">: no inline script or style is needed.
DASHBOARD_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def _status(dashboard: dict | None) -> int:
    return 400 if dashboard and dashboard.get("error") else 200


@member_required()
def home(request: MemberRequest) -> HttpResponse:
    membership = request.membership
    sections = [
        (permission, label, url)
        for permission, label, url in SECTIONS
        if role_allows(membership.role, permission)
    ]
    dashboard = dashboard_context(request)
    response = render(
        request,
        "tenant/dashboard.html",
        {
            "sections": sections,
            "membership": membership,
            "checklist": setup_checklist(request),
            "dashboard": dashboard,
        },
        status=_status(dashboard),
    )
    response["Content-Security-Policy"] = DASHBOARD_POLICY
    return response


@member_required()
def fragment(request: MemberRequest) -> HttpResponse:
    """The dashboard alone, for the page's live refresh."""
    dashboard = dashboard_context(request)
    response = render(request, "insights/_dashboard.html", {"dashboard": dashboard},
                      status=_status(dashboard))  # fmt: skip
    response["Content-Security-Policy"] = DASHBOARD_POLICY
    return response


@member_required()
def live(request: MemberRequest) -> JsonResponse:
    """A small answer polled by the open dashboard: it changes when bookings or money do."""
    response = JsonResponse({"version": live_version()})
    response["Cache-Control"] = "no-store"
    return response


@member_required()
def chart_csv(request: MemberRequest, key: str) -> HttpResponse:
    """Exactly the data of one chart's table; 404 for a chart this member does not see."""
    viewer = viewer_of(request)
    try:
        query, setting = read_query(request, viewer)
    except BadDashboardQuery as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    builders = chart_builders(query, setting, viewer)
    if key not in builders:
        raise Http404("No such chart.")
    table = builders[key]()
    response = HttpResponse(table.as_csv(), content_type="text/csv; charset=utf-8")
    name = f"{key}-{query.period.first.isoformat()}-{query.period.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
