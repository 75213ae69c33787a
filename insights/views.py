"""The back office's landing page (setup checklist, dashboard, sections); the dashboard's live
refresh, fragment and CSV downloads; the Share page and the checklist's actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from scheduling.models import StaffMember
from scheduling.services.catalogue import StaffSpec, staff_create, staff_update
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.navigation import SECTIONS
from tenants.roles import Permission, role_allows

from .checklist import HIDDEN_SESSION_KEY, setup_checklist
from .dashboard import dashboard_context
from .dashboard.page import chart_builders, live_version, read_query, viewer_of
from .dashboard.periods import BadDashboardQuery
from .share import share_panel

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
    checklist = setup_checklist(request)
    dashboard = dashboard_context(request)
    response = render(
        request,
        "tenant/dashboard.html",
        {
            "sections": sections,
            "membership": membership,
            "checklist": checklist,
            "share": share_panel(request) if checklist and not checklist["hidden"] else None,
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


@member_required(Permission.MANAGE_CATALOGUE)
def share(request: MemberRequest) -> HttpResponse:
    return render(request, "insights/share.html", {"share": share_panel(request)})


@require_POST
@member_required(Permission.MANAGE_CATALOGUE)
def checklist_visibility(request: MemberRequest) -> HttpResponse:
    """Hide the checklist for this session, or show it again."""
    request.session[HIDDEN_SESSION_KEY] = request.POST.get("hidden") == "1"
    return redirect("dashboard")


@require_POST
@member_required(Permission.MANAGE_CATALOGUE)
def working_alone(request: MemberRequest) -> HttpResponse:
    """ "I work alone": the business's only staff member becomes the signed-in person (created
    when there is none), so the checklist's staff step ticks from that real link."""
    staff = list(StaffMember.objects.filter(is_active=True))
    user = request.user
    try:
        if not staff:
            staff_create(spec=StaffSpec(display_name=user.full_name or user.email,
                                        user_id=user.pk), tenant_id=request.tenant.pk)  # fmt: skip
        elif len(staff) == 1 and staff[0].user_id is None:
            only = staff[0]
            staff_update(staff=only, tenant_id=request.tenant.pk, spec=StaffSpec(
                display_name=only.display_name, user_id=user.pk, colour=only.colour,
                time_zone=only.time_zone, display_order=only.display_order,
                service_ids=tuple(only.services.values_list("pk", flat=True))))  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("dashboard")
