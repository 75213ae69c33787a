"""The setup checklist of a new business (issue #18): seven steps, each ticked from the real
state of the business (its services, hours, staff, Stripe account, branding, bookings), never
from clicks. Shown on the landing page to the roles that can do the steps, until every step is
done or someone hides it (for their session)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from connect_payments.selectors import ONLINE_MODES, online_payment_available
from scheduling.models import Booking, BookingSource, Service, StaffMember, WorkingHours
from tenants.http import MemberRequest
from tenants.models import Tenant
from tenants.roles import Permission, role_allows

from .ports import storefront

HIDDEN_SESSION_KEY = "insights.checklist_hidden"


@dataclass(frozen=True)
class SetupStep:
    key: str
    title: str
    done: bool
    url: str
    action: str
    detail: str


def _staff_step(staff: list[StaffMember]) -> SetupStep:
    working_alone = len(staff) == 1 and staff[0].user_id is not None
    done = len(staff) >= 2 or working_alone
    if working_alone:
        detail = _("You work alone: %(name)s takes every booking.") % {
            "name": staff[0].display_name
        }
    elif done:
        detail = ngettext(
            "%(count)d person takes bookings.", "%(count)d people take bookings.", len(staff)
        ) % {"count": len(staff)}
    else:
        detail = _("Add the people customers book with, or tell us you work alone.")
    return SetupStep("staff", _("Add your staff, or confirm you work alone"), done,
                     reverse("catalogue_staff"), _("Add staff"), detail)  # fmt: skip


def setup_steps(*, tenant: Tenant, role: str = "owner") -> list[SetupStep]:
    services = Service.objects.filter(is_active=True)
    staff = list(StaffMember.objects.filter(is_active=True).order_by("pk"))
    has_service = services.exists()
    has_hours = WorkingHours.objects.filter(staff__is_active=True).exists()
    stripe_ready = online_payment_available(tenant)
    needs_online = services.filter(payment_mode__in=ONLINE_MODES, price_minor__gt=0).exists()
    pays_at_venue = has_service and not needs_online
    front = storefront()
    websites = front.embedding_websites()
    public_bookings = Booking.objects.filter(
        source__in=[BookingSource.BOOKING_PAGE, BookingSource.WIDGET]
    )
    team_emails = [
        email.lower() for email in tenant.memberships.values_list("user__email", flat=True)
    ]
    customer_booked = public_bookings.exclude(customer__email__in=team_emails).exists()
    hours_url = (
        reverse("catalogue_staff_hours", args=[staff[0].pk])
        if staff
        else reverse("catalogue_staff")
    )
    # Only owners connect Stripe; a manager can still set services to pay at the venue.
    can_connect = role_allows(role, Permission.MANAGE_PAYOUTS)
    payment_url = reverse("payouts") if can_connect else reverse("catalogue_services")
    payment_action = _("Connect Stripe") if can_connect else _("Choose how services are paid")
    if stripe_ready:
        payment_detail = _("Stripe is connected: customers can pay online.")
    elif pays_at_venue:
        payment_detail = _(
            "Your services are paid at the venue. Connect Stripe to take payment online."
        )
    elif needs_online:
        payment_detail = _(
            "A service asks for payment online: connect Stripe so customers can book it."
        )
    else:
        payment_detail = _(
            "Connect Stripe to take payment online, or set your services to pay at the venue."
        )
    return [
        SetupStep("service", _("Add a service"), has_service,
                  reverse("catalogue_service_create"), _("Add a service"),
                  _("What customers book: a name, a length and a price.")),
        SetupStep("hours", _("Set your opening hours"), has_hours, hours_url, _("Set hours"),
                  _("The weekly hours when you take bookings.")),
        _staff_step(staff),
        SetupStep("payments", _("Connect Stripe to get paid, or take payment at the venue"),
                  stripe_ready or pays_at_venue, payment_url, payment_action,
                  payment_detail),
        SetupStep("branding", _("Brand your booking page"), front.is_branded(),
                  reverse("branding"), _("Add your logo and colours"),
                  _("Your logo, colours and a welcome line.")),
        SetupStep("share", _("Share your booking link or embed the widget"),
                  bool(websites) or customer_booked, reverse("share"),
                  pgettext("verb: the checklist's button", "Share"),
                  _("Ticks once your website shows the widget or a customer books on your page.")),
        SetupStep("test_booking", _("Make a test booking"), public_bookings.exists(),
                  reverse("book"), _("Open your booking page"),
                  _("Book once on your own page, as a customer would.")),
    ]  # fmt: skip


def checklist_visible_to(request: MemberRequest) -> bool:
    return role_allows(request.membership.role, Permission.MANAGE_CATALOGUE)


def setup_checklist(request: MemberRequest) -> dict[str, Any] | None:
    """The checklist's template context for the landing page; None when there is none to show."""
    if not checklist_visible_to(request):
        return None
    steps = setup_steps(tenant=request.tenant, role=request.membership.role)
    done = sum(step.done for step in steps)
    if done == len(steps):
        return None
    hidden = bool(request.session.get(HIDDEN_SESSION_KEY))
    return {
        "steps": steps,
        "done": done,
        "total": len(steps),
        "left": len(steps) - done,
        "percent": round(100 * done / len(steps)),
        "hidden": hidden,
        "next_step": next(step for step in steps if not step.done),
    }
