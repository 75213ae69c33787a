"""The one booking-by-token check (scheduling.tokens), used by the API, the widget and payments."""

import pytest

from scheduling.services.bookings import booking_hold
from scheduling.tokens import booking_by_token

from .conftest import NOW, paris


@pytest.fixture
def held(catalogue, customer):
    return booking_hold(
        service=catalogue["service"], starts_at=paris(2030, 6, 4, 10), customer=customer, now=NOW
    )


def test_the_right_token_gives_the_booking_with_its_relations(held, django_assert_num_queries):
    booking = booking_by_token(held.reference, held.manage_token)
    assert booking.pk == held.pk
    with django_assert_num_queries(0):  # joined in the one lookup
        assert booking.service.name == "Massage"
        assert booking.staff.display_name in {"Ada", "Ben"}
        assert booking.customer.email == "chloe@example.test"


@pytest.mark.parametrize(
    "token",
    ["", None, 42, ["x"], "wrong-token", "x" * 200],
)
def test_a_missing_wrong_or_non_string_token_gives_nothing(held, token):
    assert booking_by_token(held.reference, token) is None


def test_a_token_of_another_booking_gives_nothing(held, catalogue, customer):
    other = booking_hold(
        service=catalogue["service"], starts_at=paris(2030, 6, 5, 10), customer=customer, now=NOW
    )
    assert booking_by_token(held.reference, other.manage_token) is None
    assert booking_by_token(other.reference, other.manage_token).pk == other.pk


@pytest.mark.parametrize("reference", ["", None, "NOPE-0000", 7])
def test_an_unknown_or_malformed_reference_gives_nothing(held, reference):
    assert booking_by_token(reference, held.manage_token) is None
