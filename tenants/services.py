"""Writes of tenancy: provisioning, teams, invitations, sign-in hand-off, suspension, audit."""

import logging
import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django_tenants.utils import schema_exists

from .context import use_public_schema
from .exceptions import (
    EmailAlreadyRegistered,
    InvitationInvalid,
    ReasonRequired,
    RoleChangeRefused,
    SlugUnavailable,
)
from .models import (
    AuditEntry,
    Domain,
    Invitation,
    LoginHandoff,
    Membership,
    Tenant,
    TenantStatus,
    User,
)
from .roles import Role, roles_a_member_may_grant
from .schema_clone import schema_clone
from .signals import tenant_created
from .slugs import schema_name_for_slug, validate_slug

logger = logging.getLogger(__name__)

INVITATION_SALT = "creneau.invitation"
HANDOFF_SALT = "creneau.login-handoff"


# ---------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------
def audit_record(
    *,
    actor: User | None,
    action: str,
    tenant: Tenant | None = None,
    reason: str = "",
    data: dict | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        tenant=tenant,
        reason=reason,
        data=data or {},
        ip_address=ip_address,
    )


@transaction.atomic
def tenant_time_zone_change(
    *, tenant: Tenant, time_zone: str, actor: User, ip_address: str | None = None
) -> bool:
    """Set the business's time zone (an IANA name); audited with the old and new zone. Returns
    False when it was already that zone. Bookings keep their instants: only how they are shown,
    and where the wall-clock opening hours fall, change."""
    zoneinfo.ZoneInfo(time_zone)  # raises for unknown zones
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if locked.time_zone == time_zone:
        return False
    Tenant.objects.filter(pk=tenant.pk).update(time_zone=time_zone)
    audit_record(actor=actor, action="creneau.tenant.time_zone_changed", tenant=tenant,
                 data={"from": locked.time_zone, "to": time_zone},
                 ip_address=ip_address)  # fmt: skip
    tenant.time_zone = time_zone
    return True


# ---------------------------------------------------------------------------
# Provisioning
# ---------------------------------------------------------------------------
def tenant_domain_name(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_DOMAIN}".lower()  # hosts are matched in lower case


def tenant_url(tenant: Tenant, path: str = "/") -> str:
    port = f":{settings.PLATFORM_PORT}" if settings.PLATFORM_PORT else ""
    domain = tenant.get_primary_domain()
    host = domain.domain if domain else tenant_domain_name(tenant.slug)
    return f"{settings.PLATFORM_SCHEME}://{host}{port}{path}"


def _after_schema_created(tenant: Tenant) -> None:
    """Hook between schema creation and commit; tests inject failures here."""


def _schema_create(tenant: Tenant) -> None:
    """The tenant's schema from the template's stored DDL (flat in the number of tenants:
    `tenants.schema_clone`); without a template (never migrated), or with cloning switched off
    (`TENANT_CREATION_FAKES_MIGRATIONS=False`), by running the migrations."""
    template = settings.TENANT_BASE_SCHEMA
    if settings.TENANT_CREATION_FAKES_MIGRATIONS and schema_exists(template):
        schema_clone(template=template, schema_name=tenant.schema_name)
    else:
        tenant.create_schema(check_if_exists=False, verbosity=0)


@transaction.atomic
def tenant_provision(
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_name: str,
    owner_password: str | None,
    country: str,
    currency: str,
    time_zone: str,
    plan: models.Model | None = None,
    owner: User | None = None,
) -> Tenant:
    """Create a business with its schema, domain and owner, all or nothing.

    PostgreSQL DDL is transactional, so the schema clone shares the transaction of the rows: a
    failure anywhere rolls back schema, domain, tenant, user and membership together.

    `plan` is a `billing.Plan`; without one, billing's receiver of `tenant_created` gives the
    default plan (tenants does not import billing).
    """
    validate_slug(slug)
    zoneinfo.ZoneInfo(time_zone)  # raises for unknown zones
    schema_name = schema_name_for_slug(slug)
    if (
        Tenant.objects.filter(slug=slug).exists()
        or Domain.objects.filter(domain=tenant_domain_name(slug)).exists()
    ):
        raise SlugUnavailable("This address is already taken.")

    if owner is None:
        email = owner_email.strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise EmailAlreadyRegistered(
                "An account with this email already exists. Sign in to add another business."
            )
        owner = User.objects.create_user(email=email, password=owner_password, full_name=owner_name)

    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                schema_name=schema_name,
                name=name,
                slug=slug,
                country=country.upper(),
                currency=currency.upper(),
                time_zone=time_zone,
                plan=plan,
            )
    except IntegrityError:
        raise SlugUnavailable("This address is already taken.")
    tenant_created.send(sender=Tenant, tenant=tenant)
    Domain.objects.create(domain=tenant_domain_name(slug), tenant=tenant, is_primary=True)
    Membership.objects.create(user=owner, tenant=tenant, role=Role.OWNER)
    _schema_create(tenant)
    _after_schema_created(tenant)
    use_public_schema()
    audit_record(actor=owner, action="creneau.tenant.created", tenant=tenant)
    logger.info("tenant.provisioned", extra={"tenant": tenant.schema_name})
    return tenant


def ensure_public_tenant() -> Tenant:
    """The public schema's own Tenant row and platform domain, needed for host routing."""
    tenant, _ = Tenant.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={
            "name": "Creneau platform",
            "slug": "public",
            "country": "FR",
            "currency": "EUR",
            "time_zone": "UTC",
        },
    )
    Domain.objects.get_or_create(
        domain=settings.PLATFORM_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant


# ---------------------------------------------------------------------------
# Sign-in hand-off from the platform host to a tenant host
# ---------------------------------------------------------------------------
def login_handoff_create(*, user: User, tenant: Tenant) -> str:
    nonce = secrets.token_urlsafe(24)
    LoginHandoff.objects.create(nonce=nonce, user=user, tenant=tenant)
    return signing.dumps({"n": nonce, "t": tenant.schema_name}, salt=HANDOFF_SALT)


def login_handoff_consume(*, token: str, tenant: Tenant) -> User:
    """Return the user of a valid, unused hand-off token for this tenant; mark it used."""
    try:
        payload = signing.loads(
            token, salt=HANDOFF_SALT, max_age=settings.LOGIN_HANDOFF_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        raise InvitationInvalid("This sign-in link is invalid or has expired.")
    if payload.get("t") != tenant.schema_name:
        raise InvitationInvalid("This sign-in link is for another business.")
    updated = LoginHandoff.objects.filter(nonce=payload["n"], tenant=tenant, used_at=None).update(
        used_at=timezone.now()
    )
    if updated != 1:
        raise InvitationInvalid("This sign-in link has already been used.")
    return LoginHandoff.objects.select_related("user").get(nonce=payload["n"]).user


# ---------------------------------------------------------------------------
# Team: invitations, roles, deactivation
# ---------------------------------------------------------------------------
def _check_may_grant(*, actor_membership: Membership, role: str) -> None:
    if Role(role) not in roles_a_member_may_grant(actor_membership.role):
        raise RoleChangeRefused("You cannot give this role.")


def invitation_create(
    *, tenant: Tenant, actor_membership: Membership, email: str, role: str
) -> Invitation:
    _check_may_grant(actor_membership=actor_membership, role=role)
    email = email.strip().lower()
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email, is_active=True).exists():
        raise InvitationInvalid("This person is already a member of your team.")
    Invitation.objects.filter(tenant=tenant, email__iexact=email, accepted_at=None).update(
        revoked_at=timezone.now()
    )
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        invited_by=actor_membership.user,
        expires_at=timezone.now() + timedelta(seconds=settings.INVITATION_MAX_AGE_SECONDS),
    )
    audit_record(
        actor=actor_membership.user,
        action="creneau.team.invited",
        tenant=tenant,
        data={"email": email, "role": role},
    )
    return invitation


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "e": invitation.email}, salt=INVITATION_SALT)


def invitation_from_token(*, token: str, tenant: Tenant) -> Invitation:
    try:
        payload = signing.loads(
            token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired:
        raise InvitationInvalid("This invitation has expired. Ask for a new one.")
    except signing.BadSignature:
        raise InvitationInvalid("This invitation link is not valid.")
    invitation = Invitation.objects.filter(pk=payload.get("i"), tenant=tenant).first()
    if invitation is None or invitation.email != payload.get("e"):
        raise InvitationInvalid("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was withdrawn.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("This invitation has expired. Ask for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user: User | None, full_name: str = "", password: str = ""
) -> Membership:
    """Accept once: the conditional update makes a second use of the link fail."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).update(accepted_at=timezone.now())
    if claimed != 1:
        raise InvitationInvalid("This invitation has already been used.")
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationInvalid("Sign in with your existing account to accept.")
        user = User.objects.create_user(
            email=invitation.email, password=password, full_name=full_name
        )
    elif user.email.lower() != invitation.email.lower():
        raise InvitationInvalid("This invitation was sent to another email address.")
    membership, created = Membership.objects.get_or_create(
        user=user, tenant=invitation.tenant, defaults={"role": invitation.role}
    )
    if not created:
        membership.role = invitation.role
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["role", "is_active", "deactivated_at"])
    audit_record(
        actor=user,
        action="creneau.team.joined",
        tenant=invitation.tenant,
        data={"role": invitation.role},
    )
    return membership


def _active_owner_count(tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER, is_active=True).count()


@transaction.atomic
def membership_change_role(
    *, actor_membership: Membership, membership: Membership, role: str
) -> Membership:
    _check_may_grant(actor_membership=actor_membership, role=role)
    # Lock the tenant's owner rows so two owners cannot demote each other at once.
    list(Membership.objects.select_for_update().filter(tenant=membership.tenant, role=Role.OWNER))
    membership.refresh_from_db()
    if membership.role == Role.OWNER and Role(actor_membership.role) is not Role.OWNER:
        raise RoleChangeRefused("Only an owner can change an owner's role.")
    if Role(actor_membership.role) is Role.MANAGER and membership.role == Role.MANAGER:
        raise RoleChangeRefused("Managers cannot change another manager's role.")
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and _active_owner_count(membership.tenant) <= 1
    ):
        raise RoleChangeRefused("A business needs at least one owner.")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor_membership.user,
        action="creneau.team.role_changed",
        tenant=membership.tenant,
        data={"member": membership.user.email, "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def membership_deactivate(*, actor_membership: Membership, membership: Membership) -> Membership:
    list(Membership.objects.select_for_update().filter(tenant=membership.tenant, role=Role.OWNER))
    membership.refresh_from_db()
    if membership.pk == actor_membership.pk:
        raise RoleChangeRefused("You cannot deactivate yourself.")
    if (
        membership.role in (Role.OWNER, Role.MANAGER)
        and Role(actor_membership.role) is not Role.OWNER
    ):
        raise RoleChangeRefused("Only an owner can deactivate an owner or a manager.")
    if membership.role == Role.OWNER and _active_owner_count(membership.tenant) <= 1:
        raise RoleChangeRefused("A business needs at least one owner.")
    Membership.objects.filter(pk=membership.pk).update(
        is_active=False, deactivated_at=timezone.now()
    )
    audit_record(
        actor=actor_membership.user,
        action="creneau.team.deactivated",
        tenant=membership.tenant,
        data={"member": membership.user.email},
    )
    membership.refresh_from_db()
    return membership


@transaction.atomic
def membership_reactivate(*, actor_membership: Membership, membership: Membership) -> Membership:
    _check_may_grant(actor_membership=actor_membership, role=membership.role)
    Membership.objects.filter(pk=membership.pk).update(is_active=True, deactivated_at=None)
    audit_record(
        actor=actor_membership.user,
        action="creneau.team.reactivated",
        tenant=membership.tenant,
        data={"member": membership.user.email},
    )
    membership.refresh_from_db()
    return membership


# ---------------------------------------------------------------------------
# Operator actions
# ---------------------------------------------------------------------------
@transaction.atomic
def tenant_suspend(*, tenant: Tenant, operator: User, reason: str, ip_address: str | None) -> bool:
    if not reason.strip():
        raise ReasonRequired("Give a reason: the business's team will see it.")
    updated = Tenant.objects.filter(pk=tenant.pk, status=TenantStatus.ACTIVE).update(
        status=TenantStatus.SUSPENDED, suspended_reason=reason.strip(), suspended_at=timezone.now()
    )
    if updated:
        audit_record(
            actor=operator,
            action="creneau.console.tenant.suspended",
            tenant=tenant,
            reason=reason.strip(),
            ip_address=ip_address,
        )
    return bool(updated)


@transaction.atomic
def tenant_reactivate(
    *, tenant: Tenant, operator: User, reason: str, ip_address: str | None
) -> bool:
    if not reason.strip():
        raise ReasonRequired("Give a reason for the audit log.")
    updated = Tenant.objects.filter(pk=tenant.pk, status=TenantStatus.SUSPENDED).update(
        status=TenantStatus.ACTIVE, suspended_reason="", suspended_at=None
    )
    if updated:
        audit_record(
            actor=operator,
            action="creneau.console.tenant.reactivated",
            tenant=tenant,
            reason=reason.strip(),
            ip_address=ip_address,
        )
    return bool(updated)


def operator_create(*, email: str, full_name: str, password: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, full_name=full_name)
    else:
        user.set_password(password)
    user.is_operator = True
    user.save()
    audit_record(actor=None, action="creneau.console.operator.created", data={"email": email})
    return user
