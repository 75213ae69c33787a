"""Example services and hours for a new business, by kind of business (chosen at signup).

A new owner who says "salon" gets three salon services and Tuesday-to-Saturday hours instead of an
empty catalogue: everything is an ordinary service and ordinary working hours of the owner's own
staff row, editable and deletable like anything the owner creates. Services are paid at the venue
(no Stripe account yet); prices are in the business's currency, rounded to its minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.db import transaction

from common.money import currency_exponent
from scheduling.models import PaymentMode, StaffMember
from scheduling.services.catalogue import (
    ServiceSpec,
    StaffSpec,
    service_create,
    staff_create,
    working_hours_replace,
)


@dataclass(frozen=True)
class Example:
    name: str
    minutes: int
    price: int  # in major units of the business's currency


@dataclass(frozen=True)
class Starter:
    label: str
    examples: tuple[Example, ...]
    weekdays: tuple[int, ...]  # 0 = Monday
    opens: time
    closes: time


STARTERS: dict[str, Starter] = {
    "salon": Starter(
        "Hair or beauty salon",
        (
            Example("Haircut", 45, 35),
            Example("Colour", 90, 70),
            Example("Blow-dry", 30, 25),
        ),
        (1, 2, 3, 4, 5),
        time(9),
        time(18),
    ),
    "studio": Starter(
        "Gym, yoga or dance studio",
        (
            Example("Intro session", 30, 0),
            Example("Personal training", 60, 50),
            Example("Small-group training", 60, 20),
        ),
        (0, 1, 2, 3, 4, 5),
        time(7),
        time(21),
    ),
    "coach": Starter(
        "Coach or therapist",
        (
            Example("First consultation", 30, 0),
            Example("Session", 60, 60),
            Example("Follow-up", 45, 45),
        ),
        (0, 1, 2, 3, 4),
        time(9),
        time(17),
    ),
    "home": Starter(
        "Home services",
        (
            Example("Visit and quote", 30, 0),
            Example("Standard job (2 hours)", 120, 90),
        ),
        (0, 1, 2, 3, 4),
        time(8),
        time(17),
    ),
}
KINDS = [(kind, starter.label) for kind, starter in STARTERS.items()] + [("other", "Other")]


def starter_catalogue_apply(*, kind: str, owner_user_id: int, owner_name: str, currency: str,
                            tenant_id: int) -> list[int]:  # fmt: skip
    """Create the kind's example services, bookable by the owner's own staff row (created, with
    the kind's weekly hours, if the owner has none). Returns the new services' ids; nothing for
    "other" or an unknown kind."""
    starter = STARTERS.get(kind)
    if starter is None:
        return []
    scale = 10 ** currency_exponent(currency)
    with transaction.atomic():
        staff = StaffMember.objects.filter(user_id=owner_user_id).first()
        if staff is None:
            staff = staff_create(spec=StaffSpec(display_name=owner_name, user_id=owner_user_id),
                                 tenant_id=tenant_id)  # fmt: skip
            working_hours_replace(
                staff=staff, intervals=[(day, starter.opens, starter.closes)
                                        for day in starter.weekdays],
            )  # fmt: skip
        created = [
            service_create(spec=ServiceSpec(
                name=example.name, duration_minutes=example.minutes,
                price_minor=example.price * scale,
                payment_mode=PaymentMode.PAY_AT_VENUE if example.price else PaymentMode.FREE,
                staff_ids=(staff.pk,), display_order=order,
                cancellation_policy=[{"hours_before": 24, "refund_percent": 100},
                                     {"hours_before": 0, "refund_percent": 0}],
            ))
            for order, example in enumerate(starter.examples)
        ]  # fmt: skip
    return [service.pk for service in created]
