"""The one booking-by-token check (scheduling.tokens), used by the API, the widget and payments."""

import importlib

import pytest
from django.db import connection

from common.link_tokens import legacy_hash
from scheduling.models import Booking, StaffMember
from scheduling.selectors.integrations import staff_member_for_feed_token
from scheduling.services.bookings import booking_hold
from scheduling.services.integrations import staff_member_rotate_ics_token
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


# ---------------------------------------------------------------------------
# Tokens are not stored (issue #17, item 6)
# ---------------------------------------------------------------------------
def _row_text(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_neither_the_manage_token_nor_the_feed_token_is_in_the_database(held, catalogue):
    """A copy of the tables alone opens nothing: the tokens are derived with SECRET_KEY."""
    assert held.manage_token not in _row_text("scheduling_booking", held.pk)
    ada = catalogue["ada"]
    feed_secret = ada.ics_token.partition("-")[2]
    assert feed_secret not in _row_text("scheduling_staffmember", ada.pk)
    assert staff_member_for_feed_token(ada.ics_token) == ada


def test_links_keep_working_across_a_secret_key_rotation_with_fallbacks(held, settings):
    token = held.manage_token
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "rotated-" + "y" * 50
    assert booking_by_token(held.reference, token).pk == held.pk
    settings.SECRET_KEY_FALLBACKS = []
    assert booking_by_token(held.reference, token) is None


def test_a_link_sent_before_the_migration_works_by_its_kept_hash(held, catalogue):
    """Migration 0005 replaced each clear token by its SHA-256 (manage and feed tokens)."""
    old = "pre-migration-clear-token-abcdefgh"
    Booking.objects.filter(pk=held.pk).update(manage_token_legacy_hash=legacy_hash(old))
    assert booking_by_token(held.reference, old).pk == held.pk
    assert booking_by_token(held.reference, old + "x") is None

    ben = catalogue["ben"]
    old_feed = "12-looks-like-a-new-one-but-is-old"
    StaffMember.objects.filter(pk=ben.pk).update(ics_token_legacy_hash=legacy_hash(old_feed))
    assert staff_member_for_feed_token(old_feed) == ben
    staff_member_rotate_ics_token(staff_member=ben, actor_user_id=None)
    assert staff_member_for_feed_token(old_feed) is None  # rotating voids the old URL too
    ben.refresh_from_db()
    assert staff_member_for_feed_token(ben.ics_token) == ben


def test_the_migration_hashes_every_clear_token_and_draws_new_secrets():
    """The data step of migration 0005 on stand-ins for its historical models (the clear
    columns no longer exist in the test database, which is built at the latest migration)."""
    rows = {"Booking": [], "StaffMember": []}

    class Model:
        def __init__(self, name, field):
            self.name, self.field = name, field
            self.objects = self

        def only(self, *fields):
            return self

        def iterator(self):
            made = [{"pk": n, self.field: f"clear-{self.name}-{n}"} for n in (1, 2)]
            return [type("Row", (), row) for row in made]

        def filter(self, pk):
            self.pk = pk
            return self

        def update(self, **fields):
            rows[self.name].append((self.pk, fields))

    models = {"Booking": Model("Booking", "manage_token"),
              "StaffMember": Model("StaffMember", "ics_token")}  # fmt: skip
    apps = type("Apps", (), {"get_model": staticmethod(lambda app, name: models[name])})
    migration = importlib.import_module("scheduling.migrations.0005_derived_link_tokens")
    migration.hash_existing_tokens(apps, None)
    assert [pk for pk, _ in rows["Booking"]] == [1, 2]
    [(_, first), (_, second)] = rows["Booking"]
    assert first["manage_token_legacy_hash"] == legacy_hash("clear-Booking-1")
    assert first["manage_secret"] != second["manage_secret"]
    assert [fields["ics_token_legacy_hash"] for _, fields in rows["StaffMember"]] == [
        legacy_hash("clear-StaffMember-1"), legacy_hash("clear-StaffMember-2"),
    ]  # fmt: skip
