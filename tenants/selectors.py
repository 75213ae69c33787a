"""Reads of tenants, people and memberships."""

from django.db.models import Count, Q, QuerySet

from .models import AuditEntry, Invitation, Membership, Tenant, User


def membership_for(*, user: User, tenant: Tenant) -> Membership | None:
    if not user.is_active:
        return None
    return (
        Membership.objects.filter(user=user, tenant=tenant, is_active=True)
        .select_related("user")
        .first()
    )


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("tenant")
        .exclude(tenant__schema_name="public")
    )


def team_of_tenant(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("-is_active", "user__full_name")
    )


def pending_invitations(*, tenant: Tenant) -> list[Invitation]:
    return [i for i in Invitation.objects.filter(tenant=tenant, accepted_at=None) if i.is_pending]


def tenants_for_console(*, search: str = "", status: str = "") -> QuerySet[Tenant]:
    queryset = (
        Tenant.objects.exclude(schema_name="public")
        .select_related("plan")
        .annotate(member_count=Count("memberships", filter=Q(memberships__is_active=True)))
        .order_by("-created_at")
    )
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(slug__icontains=search)
            | Q(domains__domain__icontains=search)
        ).distinct()
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def audit_entries(*, tenant: Tenant | None = None, prefix: str = "") -> QuerySet[AuditEntry]:
    queryset = AuditEntry.objects.select_related("actor", "tenant")
    if tenant is not None:
        queryset = queryset.filter(tenant=tenant)
    if prefix:
        queryset = queryset.filter(action__startswith=prefix)
    return queryset


def user_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()
