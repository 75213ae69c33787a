"""Demo catalogue for `make run`: staff, hours, services and a few bookings of Studio Zen.

Runs inside the tenant's schema; does nothing when the business already has services, so running
`make run` twice changes nothing and a demo edited by hand is never overwritten.
"""

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from scheduling.actors import Actor
from scheduling.exceptions import BookingError
from scheduling.models import (
    BookingSource,
    PaymentMode,
    Resource,
    Service,
    StaffMember,
    WorkingHours,
)
from scheduling.selectors.availability import available_slots, tenant_time_zone
from scheduling.services.bookings import booking_confirm, booking_hold
from scheduling.services.catalogue import group_schedule_create
from scheduling.services.customers import customer_upsert
from scheduling.slots import SlotError

logger = logging.getLogger(__name__)

POLICY = [
    {"hours_before": 48, "refund_percent": 100},
    {"hours_before": 24, "refund_percent": 50},
    {"hours_before": 0, "refund_percent": 0},
]
# (name, colour, {weekday: [(start, end), ...]})
STAFF = [
    ("Léa", "#2f5d50", {day: [(time(9), time(13)), (time(14), time(18))] for day in range(5)}),
    ("Marc", "#6b3fa0", {day: [(time(10), time(19))] for day in range(1, 6)}),
    ("Inès", "#a3472a", {day: [(time(9), time(17))] for day in range(6)}),
]
# (name, category, minutes, price, mode, extra fields, staff names)
SERVICES: list[tuple[str, str, int, int, str, dict[str, object], list[str]]] = [
    ("Deep tissue massage", "Massage", 60, 6500, PaymentMode.ONLINE_FULL,
     {"buffer_after_minutes": 15, "description": "An hour of firm, focused massage."},
     ["Léa", "Inès"]),
    ("Facial", "Skin", 75, 8000, PaymentMode.ONLINE_DEPOSIT,
     {"deposit_percent": 30, "description": "Cleansing, mask and massage of the face."},
     ["Léa"]),
    ("Haircut and style", "Hair", 45, 3500, PaymentMode.PAY_AT_VENUE, {}, ["Marc", "Inès"]),
    ("Discovery call", "Advice", 20, 0, PaymentMode.FREE,
     {"description": "Twenty minutes to find the right treatment."}, ["Léa", "Marc", "Inès"]),
]  # fmt: skip
CUSTOMERS = [
    ("Camille Durand", "camille@example.com"),
    ("Hugo Bernard", "hugo@example.com"),
    ("Manon Petit", "manon@example.com"),
    ("Louis Moreau", "louis@example.com"),
]


def demo_catalogue_seed(*, now: datetime | None = None) -> bool:
    """Create the demo catalogue and a few confirmed bookings; False when services exist."""
    if Service.objects.exists():
        return False
    now = now or timezone.now()
    with transaction.atomic():
        room = Resource.objects.create(name="Treatment room", quantity=1)
        staff = {}
        for order, (name, colour, hours) in enumerate(STAFF):
            member = StaffMember.objects.create(
                display_name=name, colour=colour, display_order=order
            )
            for weekday, intervals in hours.items():
                for start, end in intervals:
                    WorkingHours.objects.create(staff=member, weekday=weekday, start=start, end=end)
            staff[name] = member
        for order, (name, category, minutes, price, mode, extra, names) in enumerate(SERVICES):
            service = Service.objects.create(
                name=name,
                category=category,
                duration_minutes=minutes,
                price_minor=price,
                payment_mode=mode,
                cancellation_policy=POLICY if price else [],
                resource=room if category == "Massage" else None,
                display_order=order,
                **extra,
            )
            service.staff.add(*(staff[n] for n in names))
        yoga = Service.objects.create(
            name="Vinyasa yoga class",
            category="Classes",
            description="A flowing class for every level; mats provided.",
            duration_minutes=60,
            price_minor=1800,
            payment_mode=PaymentMode.PAY_AT_VENUE,
            capacity=12,
            display_order=len(SERVICES),
        )
        yoga.staff.add(staff["Inès"])
        next_tuesday = (now.astimezone(ZoneInfo(tenant_time_zone())) + timedelta(days=1)).date()
        while next_tuesday.weekday() != 1:
            next_tuesday += timedelta(days=1)
        group_schedule_create(
            service=yoga, staff=staff["Inès"], weekday=1, start_time=time(18),
            first_date=next_tuesday, weeks=10, capacity=12, now=now,
        )  # fmt: skip
    _book_a_few(now=now)
    return True


def _book_a_few(*, now: datetime) -> None:
    """A handful of confirmed bookings over the next days, so the calendar is not empty."""
    zone = ZoneInfo(tenant_time_zone())
    front_desk = Actor("demo data")
    services = list(Service.objects.filter(price_minor__gt=0, capacity=1))
    tomorrow = (now.astimezone(zone) + timedelta(days=1)).date()
    for index, (name, email) in enumerate(CUSTOMERS * 2):
        service = services[index % len(services)]
        day = tomorrow + timedelta(days=index // 2)
        found = available_slots(service=service, start_date=day, end_date=day, now=now)
        if not found:
            continue
        slot = found[(index * 5) % len(found)]
        try:
            with transaction.atomic():
                customer = customer_upsert(name=name, email=email)
                booking = booking_hold(
                    service=service, starts_at=slot.start_utc, customer=customer,
                    staff_id=int(slot.staff_id), source=BookingSource.STAFF, now=now,
                    actor=front_desk,
                )  # fmt: skip
                booking_confirm(booking=booking, actor=front_desk, reason="Demo booking")
        except (BookingError, SlotError) as error:
            logger.info("demo.booking_skipped", extra={"reason": str(error)})
