"""Requests as the tenants middleware leaves them, for views' type annotations."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Membership, Tenant, User


class SignedInRequest(HttpRequest):
    """A request that passed a sign-in check (`operator_required`, `member_required`)."""

    user: User


class TenantRequest(HttpRequest):
    """A request on a business's host: django-tenants set `tenant`, TenantAccessMiddleware set
    `membership` (None for customers and for signed-in people outside the team)."""

    tenant: Tenant
    membership: Membership | None


class MemberRequest(TenantRequest):
    """A back-office request that passed `member_required`: a signed-in team member."""

    user: User  # narrowed from User | AnonymousUser by member_required
    membership: Membership
