"""The back office's navigation: its sections, grouped, and which of them a role may open.

One list for every page: the side menu (templates/tenant/_nav.html), the landing page's cards
and the second-factor prompt ("Payments need a second factor") all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .roles import SECOND_FACTOR_PERMISSIONS, Permission, role_allows


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    permission: Permission


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: tuple[NavItem, ...]


NAVIGATION: tuple[NavGroup, ...] = (
    NavGroup("Today", (NavItem("Today", "/", Permission.VIEW_OWN_CALENDAR),)),
    NavGroup(
        "Calendar",
        (
            NavItem("Calendar", "/calendar/", Permission.VIEW_OWN_CALENDAR),
            NavItem("Calendar subscription", "/calendar/subscribe/", Permission.VIEW_OWN_CALENDAR),
        ),
    ),
    NavGroup(
        "Bookings",
        (
            NavItem("Bookings", "/bookings/", Permission.VIEW_ALL_BOOKINGS),
            NavItem("New booking", "/bookings/new/", Permission.MANAGE_BOOKINGS),
            NavItem("Waitlists", "/waitlists/", Permission.VIEW_ALL_BOOKINGS),
        ),
    ),
    NavGroup("Customers", (NavItem("Customers", "/customers/", Permission.VIEW_OWN_CALENDAR),)),
    NavGroup(
        "Catalogue",
        (
            NavItem("Services", "/services/", Permission.MANAGE_CATALOGUE),
            NavItem("Staff and hours", "/staff/", Permission.MANAGE_CATALOGUE),
            NavItem("Holidays", "/holidays/", Permission.MANAGE_CATALOGUE),
            NavItem("Resources", "/resources/", Permission.MANAGE_CATALOGUE),
            NavItem("Group sessions", "/group-sessions/", Permission.MANAGE_CATALOGUE),
            NavItem("Booking settings", "/booking-settings/", Permission.MANAGE_CATALOGUE),
        ),
    ),
    NavGroup(
        "Money",
        (
            NavItem("Payments", "/payments/", Permission.VIEW_MONEY),
            NavItem("Promo codes", "/payments/promo-codes/", Permission.VIEW_MONEY),
            NavItem("Get paid", "/payouts/", Permission.MANAGE_PAYOUTS),
        ),
    ),
    NavGroup(
        "Passes and credits",
        (
            NavItem("Passes", "/passes/", Permission.MANAGE_CATALOGUE),
            NavItem("Pass sales", "/passes/sales/", Permission.VIEW_MONEY),
            NavItem("Customer credits", "/credits/", Permission.MANAGE_BOOKINGS),
            NavItem("Memberships", "/memberships/", Permission.MANAGE_CATALOGUE),
            NavItem("Members", "/memberships/members/", Permission.VIEW_ALL_CUSTOMERS),
        ),
    ),
    NavGroup(
        "Website and widget",
        (
            NavItem("Share your booking page", "/share/", Permission.MANAGE_CATALOGUE),
            NavItem("Branding", "/branding/", Permission.MANAGE_BRANDING),
            NavItem("Embed on your website", "/embed/", Permission.MANAGE_BRANDING),
        ),
    ),
    NavGroup(
        "Team and settings",
        (
            NavItem("Team", "/team/", Permission.MANAGE_TEAM),
            NavItem("API keys", "/settings/api-keys/", Permission.MANAGE_TEAM),
        ),
    ),
    NavGroup(
        "Plan and billing", (NavItem("Plan and billing", "/billing/", Permission.MANAGE_BILLING),)
    ),
)

# Every section but the landing page itself, flat: (permission, label, url).
SECTIONS: list[tuple[Permission, str, str]] = [
    (item.permission, item.label, item.url)
    for group in NAVIGATION
    for item in group.items
    if item.url != "/"
]


def section_for_path(path: str) -> NavItem | None:
    """The section a path belongs to: the item with the longest URL that starts it."""
    best: NavItem | None = None
    for group in NAVIGATION:
        for item in group.items:
            matches = path == item.url if item.url == "/" else path.startswith(item.url)
            if matches and (best is None or len(item.url) > len(best.url)):
                best = item
    return best


def navigation_for(*, role: str, path: str) -> list[dict]:
    """The groups and items `role` may open, the one `path` belongs to marked current."""
    current = section_for_path(path)
    groups = []
    for group in NAVIGATION:
        items = [
            {"label": item.label, "url": item.url, "current": item == current}
            for item in group.items
            if role_allows(role, item.permission)
        ]
        if items:
            groups.append(
                {
                    "label": group.label,
                    "items": items,
                    "current": any(item["current"] for item in items),
                    # A group of one item of the same name is shown as that link alone.
                    "single": len(items) == 1 and items[0]["label"] == group.label,
                }
            )
    return groups


def second_factor_reason(next_path: str) -> str:
    """Why the page at `next_path` asks for a second factor, in one sentence ("" if unknown)."""
    item = section_for_path(next_path.split("?")[0])
    if item is None or item.permission not in SECOND_FACTOR_PERMISSIONS:
        return ""
    verb = "needs" if not item.label.endswith("s") or item.label.endswith("ss") else "need"
    return f"{item.label} {verb} a second factor: it takes a minute."
