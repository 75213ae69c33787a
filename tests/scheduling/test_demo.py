"""The demo catalogue that `make run` gives Studio Zen."""

from scheduling.demo import demo_catalogue_seed
from scheduling.models import Booking, BookingStatus, Service, StaffMember

from .conftest import NOW


def test_demo_catalogue_has_every_payment_mode_and_confirmed_bookings(alpha_schema):
    assert demo_catalogue_seed(now=NOW) is True
    modes = set(Service.objects.values_list("payment_mode", flat=True))
    assert modes == {"online_full", "online_deposit", "pay_at_venue", "free"}
    assert StaffMember.objects.count() == 3
    yoga = Service.objects.get(capacity__gt=1)
    assert yoga.occurrences.count() == 10
    bookings = Booking.objects.filter(occurrence__isnull=True)
    assert bookings.count() >= 6
    assert set(bookings.values_list("status", flat=True)) == {BookingStatus.CONFIRMED}
    assert all(booking.starts_at > NOW for booking in bookings)


def test_demo_catalogue_is_seeded_once(alpha_schema):
    demo_catalogue_seed(now=NOW)
    services, bookings = Service.objects.count(), Booking.objects.count()
    assert demo_catalogue_seed(now=NOW) is False
    assert (Service.objects.count(), Booking.objects.count()) == (services, bookings)
