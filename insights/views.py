"""The back office's landing page: the setup checklist, the dashboard, the sections."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import role_allows
from tenants.views import SECTIONS

from .checklist import setup_checklist
from .dashboard import dashboard_context


@member_required()
def home(request: MemberRequest) -> HttpResponse:
    membership = request.membership
    sections = [
        (permission, label, url)
        for permission, label, url in SECTIONS
        if role_allows(membership.role, permission)
    ]
    return render(
        request,
        "tenant/dashboard.html",
        {
            "sections": sections,
            "membership": membership,
            "checklist": setup_checklist(request),
            "dashboard": dashboard_context(request),
        },
    )
