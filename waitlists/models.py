"""Waitlists (tenant schema): who waits for what, the places that freed up, and the offers made.

A *place* is one freed seat of a class session or one freed time of a staff member, written once
per freeing event (`source_key` is unique, so an event processed twice is still one place) and
only while the seat or time is really free (counted under scheduling's row lock, open places
included). Offers of a place go to people in line one at a time by default; at most one offer of
a place is ever accepted (a partial unique index), so a place never becomes two bookings.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from common.link_tokens import link_token
from scheduling.models import Booking, Occurrence, Service, StaffMember, new_token

OFFER_TOKEN_PURPOSE = "waitlist-offer"
ENTRY_TOKEN_PURPOSE = "waitlist-entry"
DEFAULT_OFFER_MINUTES = 30


class AcceptanceMode(models.TextChoices):
    OFFER = "offer", "Email an offer; the customer accepts (and pays) through the link"
    AUTOMATIC = "automatic", "Book at once and charge the saved card (needs cards on file)"


class WaitlistSettings(models.Model):
    """The business's waitlist settings (one row)."""

    is_enabled = models.BooleanField(default=True, help_text="Offer the waitlist when full.")
    offer_minutes = models.PositiveIntegerField(
        default=DEFAULT_OFFER_MINUTES,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="How long an offer stays open before it passes to the next person.",
    )
    offers_at_once = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="1: one person at a time, in order. More: the first of them to accept books.",
    )
    mode = models.CharField(
        max_length=12, choices=AcceptanceMode.choices, default=AcceptanceMode.OFFER
    )

    def __str__(self) -> str:
        return "Waitlist settings"


class EntryStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offer sent"
    BOOKED = "booked", "Booked"
    LEFT = "left", "Left the waitlist"
    REMOVED = "removed", "Removed by the team"


OPEN_ENTRY_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class WaitlistEntry(models.Model):
    """One person waiting: for a class session, or for a service on a day (any staff or one,
    optionally between two times of the business's wall clock)."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(null=True, blank=True)  # the business's local date (appointments)
    staff = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    name = models.CharField(max_length=150)
    email = models.EmailField()
    # Order in line: lower first; the team reorders by swapping positions.
    position = models.BigIntegerField(db_index=True)
    status = models.CharField(
        max_length=10, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    secret = models.CharField(max_length=64, default=new_token)
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The language of the page they joined on ("" before it was kept): their emails speak it.
    language = models.CharField(max_length=8, blank=True)
    # The service asked for a card on file when they joined: they are offered places only once
    # the card is saved (`card_setup`, their consent), and the booking carries that consent.
    needs_card = models.BooleanField(default=False)
    card_setup = models.ForeignKey(
        "connect_payments.CardSetup", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(occurrence__isnull=False) & Q(day__isnull=True))
                | (Q(occurrence__isnull=True) & Q(day__isnull=False)),
                name="waitlist_entry_session_or_day",
            ),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True)
                | Q(window_end__isnull=True)
                | Q(window_end__gt=models.F("window_start")),
                name="waitlist_entry_window_positive",
            ),
            # Joining twice for the same thing is one place in line.
            models.UniqueConstraint(
                Lower("email"),
                "service",
                "occurrence",
                "day",
                "staff",
                condition=Q(status__in=["waiting", "offered"]),
                nulls_distinct=False,
                name="waitlist_entry_once",
            ),
        ]
        indexes = [models.Index(fields=["service", "status", "position"])]

    def __str__(self) -> str:
        return f"{self.email} for {self.service_id}"

    @property
    def token(self) -> str:
        """The secret of the customer's "leave the waitlist" link, derived, never stored."""
        return link_token(ENTRY_TOKEN_PURPOSE, str(self.pk), self.secret)


class PlaceStatus(models.TextChoices):
    OPEN = "open", "Being offered"
    FILLED = "filled", "Booked from the waitlist"
    LAPSED = "lapsed", "Nobody took it"


class FreedPlace(models.Model):
    """A seat or a time that freed up while people were waiting."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The event that freed it ("booking-12-event-40"), or "hand-<n>" for a place the team offers.
    source_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=8, choices=PlaceStatus.choices, default=PlaceStatus.OPEN)
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One open place per freed time of a staff member (appointments).
            models.UniqueConstraint(
                fields=["staff", "starts_at"],
                condition=Q(status="open", occurrence__isnull=True),
                name="waitlist_place_time_once",
            )
        ]

    def __str__(self) -> str:
        return f"place {self.pk} {self.starts_at:%Y-%m-%d %H:%M}"


class OfferStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    LOST = "lost", "Someone else took the place"
    CARD_DECLINED = "card_declined", "Saved card declined"


class WaitlistOffer(models.Model):
    place = models.ForeignKey(FreedPlace, on_delete=models.CASCADE, related_name="offers")
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(
        max_length=14, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    secret = models.CharField(max_length=64, default=new_token)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    # The kind "someone else took it" / "your card was declined" email, sent once.
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    offered_by = models.CharField(max_length=150, blank=True)  # a team member's name: by hand
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["place", "entry"], name="waitlist_offer_once"),
            # A place becomes at most one booking, whatever races.
            models.UniqueConstraint(
                fields=["place"], condition=Q(status="accepted"), name="waitlist_place_one_taker"
            ),
            # A person holds one open offer at a time.
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="pending"), name="waitlist_offer_one_open"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="pending"), name="waitlist_offer_open"
            )
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} ({self.status})"

    @property
    def token(self) -> str:
        """The secret of the offer link, derived from SECRET_KEY and `secret`, never stored."""
        return link_token(OFFER_TOKEN_PURPOSE, str(self.pk), self.secret)
