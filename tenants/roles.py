"""Roles of a business's team and what each may do: the permission matrix of docs/roles.md."""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    FRONT_DESK = "front_desk"
    STAFF = "staff"


ROLE_LABELS = {
    Role.OWNER: "Owner",
    Role.MANAGER: "Manager",
    Role.FRONT_DESK: "Front desk",
    Role.STAFF: "Staff",
}


class Permission(StrEnum):
    """A capability checked by a page or API; named by what it lets a person do."""

    VIEW_OWN_CALENDAR = "view_own_calendar"
    VIEW_ALL_BOOKINGS = "view_all_bookings"
    MANAGE_BOOKINGS = "manage_bookings"
    VIEW_ALL_CUSTOMERS = "view_all_customers"
    MANAGE_CATALOGUE = "manage_catalogue"  # services, staff, resources, hours
    VIEW_MONEY = "view_money"  # payments, amounts, exports
    REFUND = "refund"
    MANAGE_BRANDING = "manage_branding"
    MANAGE_TEAM = "manage_team"  # invite, change roles, deactivate
    MANAGE_PAYOUTS = "manage_payouts"  # Stripe Connect account
    MANAGE_BILLING = "manage_billing"  # the platform subscription
    TRANSFER_OWNERSHIP = "transfer_ownership"


_EVERYONE = frozenset(Role)
_DESK_AND_UP = frozenset({Role.OWNER, Role.MANAGER, Role.FRONT_DESK})
_MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
_OWNERS = frozenset({Role.OWNER})

PERMISSION_MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_OWN_CALENDAR: _EVERYONE,
    Permission.VIEW_ALL_BOOKINGS: _DESK_AND_UP,
    Permission.MANAGE_BOOKINGS: _DESK_AND_UP,
    Permission.VIEW_ALL_CUSTOMERS: _DESK_AND_UP,
    Permission.MANAGE_CATALOGUE: _MANAGERS,
    Permission.VIEW_MONEY: _MANAGERS,
    Permission.REFUND: _MANAGERS,
    Permission.MANAGE_BRANDING: _MANAGERS,
    Permission.MANAGE_TEAM: _MANAGERS,
    Permission.MANAGE_PAYOUTS: _OWNERS,
    Permission.MANAGE_BILLING: _OWNERS,
    Permission.TRANSFER_OWNERSHIP: _OWNERS,
}

# Pages behind these permissions need a verified second factor for the roles that reach them.
SECOND_FACTOR_PERMISSIONS = frozenset(
    {
        Permission.VIEW_MONEY,
        Permission.REFUND,
        Permission.MANAGE_BRANDING,
        Permission.MANAGE_TEAM,
        Permission.MANAGE_PAYOUTS,
        Permission.MANAGE_BILLING,
        Permission.TRANSFER_OWNERSHIP,
    }
)


def role_allows(role: str, permission: Permission) -> bool:
    return Role(role) in PERMISSION_MATRIX[permission]


def roles_a_member_may_grant(granter_role: str) -> list[Role]:
    """Owners grant any role; managers grant roles below their own (never owner or manager)."""
    if Role(granter_role) is Role.OWNER:
        return list(Role)
    if Role(granter_role) is Role.MANAGER:
        return [Role.FRONT_DESK, Role.STAFF]
    return []
