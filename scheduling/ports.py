"""What scheduling asks of the apps above it, without importing them.

Scheduling sits below payments and branding (docs/decisions/0006-layout-and-layers.md): it may
not import `connect_payments` or `widgets`. Where a booking needs them (the price actually paid
when it is cancelled, the payment object of the public API, the business's contact lines in an
email), scheduling calls a *port* defined here. The app that can answer registers its
implementation once, in its `AppConfig.ready()` (pretix's signals pattern, with one answer per
question instead of a list of receivers):

    from scheduling import ports
    ports.register_payments(ConnectPayments())

Without a registration (an installation without payments, or a test that runs scheduling alone),
the defaults answer: nothing is paid online and nothing is refunded; the business has no contact
lines. The defaults never pretend money moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from scheduling.actors import Actor
    from scheduling.cancellation_policy import RefundDecision
    from scheduling.models import Booking, Customer, Service


class Payments(Protocol):
    """Money of a booking, answered by connect_payments (connect_payments/booking_port.py)."""

    def check_before_hold(
        self, *, service: Service, promo_code: object = None, customer_email: str = ""
    ) -> Any:
        """Before a hold: raise the app's 409 (`payments_unavailable`) or 400
        (`promo_code_invalid`) API error, else return what `after_hold` needs (a promo code)."""

    def after_hold(self, *, booking: Booking, promo: Any = None) -> dict[str, Any] | None:
        """Once the hold is committed (never inside its transaction): the `payment` object."""

    def on_status(self, *, booking: Booking) -> dict[str, Any] | None:
        """The customer's return path: re-read and confirm, then the `payment` object."""

    def cancellation_amounts(self, *, booking: Booking) -> tuple[int, int]:
        """(paid, already refunded), in minor units, that the cancellation policy applies to."""

    def refund_for_cancellation(
        self, *, booking: Booking, decision: RefundDecision, actor: Actor
    ) -> None:
        """After a cancellation: refund what the decision grants, through Stripe."""

    def online_payment_check(self) -> Callable[[Service], bool]:
        """A per-request check "can this service be booked online right now" (one query)."""

    def staff_summary(self, *, booking: Booking, with_money: bool) -> dict[str, Any]:
        """What the staff calendar shows: label, due_minor, currency, and `detail_url` (the
        money record's page) when `with_money`."""

    def receipt(self, *, booking: Booking) -> dict[str, Any] | None:
        """What the customer paid online: paid_minor, discount_minor, promo_code,
        balance_due_minor (0 once paid), currency; None when nothing was paid online."""


class NoPayments:
    """The answer when no payments app registered: pay at the venue, nothing to refund."""

    def check_before_hold(
        self, *, service: Service, promo_code: object = None, customer_email: str = ""
    ) -> Any:
        return None

    def after_hold(self, *, booking: Booking, promo: Any = None) -> dict[str, Any] | None:
        return None

    def on_status(self, *, booking: Booking) -> dict[str, Any] | None:
        return None

    def cancellation_amounts(self, *, booking: Booking) -> tuple[int, int]:
        return 0, 0

    def refund_for_cancellation(
        self, *, booking: Booking, decision: RefundDecision, actor: Actor
    ) -> None:
        return None

    def online_payment_check(self) -> Callable[[Service], bool]:
        # Without payments, a service paid online cannot be booked online.
        online = ("online_full", "online_deposit")
        return lambda service: service.payment_mode not in online or service.price_minor == 0

    def staff_summary(self, *, booking: Booking, with_money: bool) -> dict[str, Any]:
        due = 0 if booking.payment_mode == "free" else booking.price_minor
        label = "Free" if booking.payment_mode == "free" else "To pay at the venue"
        return {"label": label, "due_minor": due, "currency": booking.currency, "detail_url": ""}

    def receipt(self, *, booking: Booking) -> dict[str, Any] | None:
        return None


@dataclass(frozen=True)
class BusinessContact:
    """The lines a customer's email ends with (from the business's branding)."""

    address: str = ""
    contact_phone: str = ""
    contact_email: str = ""


class Branding(Protocol):
    """The business's public face, answered by widgets (widgets/apps.py)."""

    def contact(self) -> BusinessContact:
        """The current tenant's contact lines."""

    def allowed_embedding_origin(self, claimed: str) -> str:
        """`claimed` normalised (scheme://host[:port]) when the current tenant allows that
        website to embed its booking page, else "" (malformed or not on the list)."""


class NoBranding:
    def contact(self) -> BusinessContact:
        return BusinessContact()

    def allowed_embedding_origin(self, claimed: str) -> str:
        return ""


class PlanLimits(Protocol):
    """billing: what the business's platform plan allows (answers "" when allowed)."""

    def active_staff_refusal(self, *, tenant_id: int, active_staff: int) -> str:
        """Why `active_staff` active staff members are over the plan, naming a plan allowing it."""
        ...

    def group_sessions_refusal(self, *, tenant_id: int, group_sessions: int) -> str:
        """Why `group_sessions` running recurring group sessions are over the plan, likewise."""
        ...


class NoPlanLimits:
    """The answer when billing registered nothing: no limits."""

    def active_staff_refusal(self, *, tenant_id: int, active_staff: int) -> str:
        return ""

    def group_sessions_refusal(self, *, tenant_id: int, group_sessions: int) -> str:
        return ""


# Called after a staff member was added, activated or deactivated (inside the write's
# transaction, so a listener may enqueue an after-commit task): billing keeps the extra-seat
# quantity of the platform subscription equal to the active staff beyond the plan's seats.
StaffChangedListener = Callable[[int], None]
_staff_changed: list[StaffChangedListener] = []


def register_staff_changed(listener: StaffChangedListener) -> None:
    if listener not in _staff_changed:
        _staff_changed.append(listener)


def staff_changed(*, tenant_id: int) -> None:
    """Tell the registered listeners that the tenant's active staff may have changed."""
    for listener in _staff_changed:
        listener(tenant_id)


# Called when a staff member may have gained bookable time (working hours replaced, special
# hours added on a date, time off removed), inside the write's transaction, with the staff id:
# the waitlist offers the new times to people waiting for that day (after commit).
AvailabilityAddedListener = Callable[[int], None]
_availability_added: list[AvailabilityAddedListener] = []


def register_availability_added(listener: AvailabilityAddedListener) -> None:
    if listener not in _availability_added:
        _availability_added.append(listener)


def availability_added(*, staff_id: int) -> None:
    for listener in _availability_added:
        listener(staff_id)


@dataclass(frozen=True)
class BookingTransition:
    """One booking status change (`from_status` "" for a new hold), as its audit row says."""

    booking_id: int
    from_status: str
    to_status: str
    action: str  # the BookingEvent action, e.g. "creneau.booking.cancelled", ".rescheduled"
    actor: Actor


# Called for every booking transition inside its transaction, after the audit row: apps above
# scheduling react without scheduling importing them (credits taken, spent or returned; a freed
# place offered to the waitlist; a fee owed for a no-show). A listener that must do slow or
# external work (Stripe, email) writes an outbox row here and does it after commit.
BookingTransitionListener = Callable[[BookingTransition], None]
_booking_transition_listeners: list[BookingTransitionListener] = []


def register_booking_transition(listener: BookingTransitionListener) -> None:
    if listener not in _booking_transition_listeners:
        _booking_transition_listeners.append(listener)


def booking_transitioned(transition: BookingTransition) -> None:
    for listener in _booking_transition_listeners:
        listener(transition)


@dataclass(frozen=True)
class CreditOffer:
    """A credit the customer could book with instead of paying (what the widget shows)."""

    label: str  # "10-class pass"
    remaining: int | None  # None: unlimited
    expires_at: datetime | None


class Credits(Protocol):
    """Credits of passes and memberships, answered by memberships (memberships/booking_port.py).

    Asked only for a signed-in customer (the account's session proves the email is theirs)
    or by the team: an email typed into a form never spends anyone's credits.
    """

    def offer_for(
        self, *, customer: Customer, service: Service, starts_at: datetime
    ) -> CreditOffer | None:
        """The credit a booking of `service` at `starts_at` would take, if any (read only)."""

    def take_for_hold(self, *, booking: Booking, now: datetime) -> None:
        """Inside the hold's transaction: take one credit for the booking, or raise
        `scheduling.exceptions.CreditUnavailable` (the hold rolls back with it)."""


class NoCredits:
    """Without a credits app nobody has credits."""

    def offer_for(
        self, *, customer: Customer, service: Service, starts_at: datetime
    ) -> CreditOffer | None:
        return None

    def take_for_hold(self, *, booking: Booking, now: datetime) -> None:
        from scheduling.exceptions import CreditUnavailable

        raise CreditUnavailable()


_credits: Credits = NoCredits()


def register_credits(implementation: Credits) -> None:
    global _credits
    _credits = implementation


def credits() -> Credits:
    return _credits


@dataclass(frozen=True)
class AccountSection:
    """One section of the signed-in customer's account page (widgets/views/account.py).

    `template` is rendered with `customer` and `data` (= `context`); sections are shown by `order`
    (bookings 10, credits and passes 20, memberships 30, saved cards 40, receipts 50).
    """

    key: str
    title: str
    template: str
    context: dict[str, Any]
    order: int = 100


# Apps add sections to the customer's account page without widgets knowing them: memberships
# (credits, passes, membership status), connect_payments (saved cards). A provider returns None
# when it has nothing to show for this customer. Called in the business's schema.
AccountSectionProvider = Callable[["Customer"], "AccountSection | None"]
_account_sections: list[AccountSectionProvider] = []


def register_account_section(provider: AccountSectionProvider) -> None:
    if provider not in _account_sections:
        _account_sections.append(provider)


def account_sections(customer: Customer) -> list[AccountSection]:
    sections = [section for provider in _account_sections if (section := provider(customer))]
    return sorted(sections, key=lambda section: (section.order, section.key))


# The back office's customer pages (scheduling/views/customers.py): what a customer spent
# (connect_payments sums the payments list's rows: bookings, fees, passes, memberships) and the
# sections other apps add to a customer's page (credits and memberships, saved cards). Called in
# the business's schema; never per row of the list (`spent` answers for a whole page at once).
CustomerSpentProvider = Callable[[list[int]], "dict[int, dict[str, int]]"]
_customer_spent: list[CustomerSpentProvider] = []


def register_customer_spent(provider: CustomerSpentProvider) -> None:
    if provider not in _customer_spent:
        _customer_spent.append(provider)


def customer_spent(customer_ids: list[int]) -> dict[int, dict[str, int]]:
    """{customer id: {currency: minor units paid, net of refunds}}; empty without payments."""
    totals: dict[int, dict[str, int]] = {}
    for provider in _customer_spent:
        for customer_id, by_currency in provider(customer_ids).items():
            mine = totals.setdefault(customer_id, {})
            for currency, amount in by_currency.items():
                mine[currency] = mine.get(currency, 0) + amount
    return totals


@dataclass(frozen=True)
class CustomerSection:
    """One section of a customer's back-office page: `template` rendered with `customer` and
    `data` (= `context`), by `order` (credits 20, memberships 30, saved cards 40)."""

    key: str
    title: str
    template: str
    context: dict[str, Any]
    order: int = 100


# A provider gets the customer and the viewer's role (it shows amounts and links only where the
# role allows them) and returns None when it has nothing to show.
CustomerSectionProvider = Callable[["Customer", str], "CustomerSection | None"]
_customer_sections: list[CustomerSectionProvider] = []


def register_customer_section(provider: CustomerSectionProvider) -> None:
    if provider not in _customer_sections:
        _customer_sections.append(provider)


def customer_sections(customer: Customer, role: str) -> list[CustomerSection]:
    sections = [section for provider in _customer_sections if (section := provider(customer, role))]
    return sorted(sections, key=lambda section: (section.order, section.key))


_payments: Payments = NoPayments()
_branding: Branding = NoBranding()
_plan_limits: PlanLimits = NoPlanLimits()


def register_plan_limits(implementation: PlanLimits) -> None:
    global _plan_limits
    _plan_limits = implementation


def plan_limits() -> PlanLimits:
    return _plan_limits


def register_payments(implementation: Payments) -> None:
    global _payments
    _payments = implementation


def register_branding(implementation: Branding) -> None:
    global _branding
    _branding = implementation


def payments() -> Payments:
    return _payments


def branding() -> Branding:
    return _branding


# ---------------------------------------------------------------------------
# Member prices (memberships/pricing.py registers the answer)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberPrice:
    """What a member pays for a service their membership does not cover."""

    price_minor: int  # the member price, in the booking's currency
    normal_minor: int  # the service's price, shown struck through
    percent_off: int
    label: str  # the membership's name, "Gold membership"


class Pricing(Protocol):
    """Member prices of memberships.

    Asked only for a customer identified by a signed-in customer account session (the /my/
    one-time link) or chosen by the team; never for an email typed into a booking form.
    """

    def member_price_for(self, *, customer: Customer, service: Service) -> MemberPrice | None:
        """The member price of `service` for `customer` now, or None (the normal price)."""


class NoPricing:
    """Without a memberships app everyone pays the service's price."""

    def member_price_for(self, *, customer: Customer, service: Service) -> MemberPrice | None:
        return None


_pricing: Pricing = NoPricing()


def register_pricing(implementation: Pricing) -> None:
    global _pricing
    _pricing = implementation


def pricing() -> Pricing:
    return _pricing


# The language of the business's emails to customers that no request chose (sign-in links,
# credit reminders, failed membership payments): widgets registers the branding's default
# language; without it, the project's default.
BusinessLanguageProvider = Callable[[], str]
_business_language: BusinessLanguageProvider | None = None


def register_business_language(provider: BusinessLanguageProvider) -> None:
    global _business_language
    _business_language = provider


def business_language() -> str:
    if _business_language is None:
        from django.conf import settings

        return str(settings.LANGUAGE_CODE)
    return _business_language()
