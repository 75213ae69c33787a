"""The back office's landing page: the setup checklist, the dashboard, the sections; the Share
page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
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
from .share import share_panel


@member_required()
def home(request: MemberRequest) -> HttpResponse:
    membership = request.membership
    sections = [
        (permission, label, url)
        for permission, label, url in SECTIONS
        if role_allows(membership.role, permission)
    ]
    checklist = setup_checklist(request)
    return render(
        request,
        "tenant/dashboard.html",
        {
            "sections": sections,
            "membership": membership,
            "checklist": checklist,
            "share": share_panel(request) if checklist and not checklist["hidden"] else None,
            "dashboard": dashboard_context(request),
        },
    )


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
