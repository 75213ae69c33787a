"""The credit ledger: grants (what a purchase or a renewal gave) and their append-only entries.

Two rules live in PostgreSQL, not only in Python (migration 0001):
- a grant's `remaining` never goes below zero (CHECK), and the services take a credit with a
  conditional UPDATE under the grant's row lock, so concurrent holds cannot overdraw it;
- entries are never updated or deleted (a trigger refuses UPDATE and DELETE): a correction is a
  new `adjusted` entry.

`remaining` is the number of credits a customer can still take. For a limited grant it always
equals the sum of its entries' deltas; an unlimited grant (`credits_total` NULL, a membership)
has `remaining` NULL, and its entries still record each hold (-1) and return (+1) so daily and
weekly caps can be counted.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.models import Booking, Customer, Service


class CreditSourceKind(models.TextChoices):
    PASS = "pass", _("Pass")
    MEMBERSHIP = "membership", _("Membership")
    ADJUSTMENT = "adjustment", _("Adjustment by the team")


class CreditGrant(models.Model):
    """Credits given to one customer at once, for some services, until a date.

    `services` empty means every service of the business (a "one credit = any class" pass);
    the offer pages ask for the services explicitly, so an empty set is a choice, not a default.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_grants")
    source_kind = models.CharField(max_length=12, choices=CreditSourceKind.choices)
    source_id = models.CharField(max_length=64)  # the pass purchase's / membership's id
    services = models.ManyToManyField(Service, blank=True, related_name="+")
    credits_total = models.PositiveIntegerField(null=True, blank=True)  # NULL: unlimited
    remaining = models.IntegerField(null=True, blank=True)  # NULL: unlimited; CHECK >= 0
    cap_per_day = models.PositiveIntegerField(null=True, blank=True)
    cap_per_week = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    # NULL with `valid_days_after_first_use` set: the validity starts at the first hold.
    expires_at = models.DateTimeField(null=True, blank=True)
    valid_days_after_first_use = models.PositiveIntegerField(null=True, blank=True)
    suspended = models.BooleanField(default=False)  # a past-due membership's credits
    expired_at = models.DateTimeField(null=True, blank=True)  # set by credits_expire_due
    expiry_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expires_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__isnull=True) | Q(remaining__gte=0),
                name="credit_grant_remaining_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(credits_total__isnull=True, remaining__isnull=True)
                | Q(credits_total__isnull=False, remaining__isnull=False),
                name="credit_grant_unlimited_has_no_remaining",
            ),
        ]
        indexes = [
            # usable_grant_for: a customer's live grants, soonest expiry first.
            models.Index(
                fields=["customer", "expires_at"],
                condition=Q(expired_at__isnull=True, suspended=False),
                name="credit_grant_usable_idx",
            ),
            models.Index(fields=["source_kind", "source_id"], name="credit_grant_source_idx"),
        ]

    def __str__(self) -> str:
        total = (
            "unlimited" if self.credits_total is None else f"{self.remaining}/{self.credits_total}"
        )
        return f"{self.get_source_kind_display()} {self.source_id} ({total})"

    @property
    def is_unlimited(self) -> bool:
        return self.credits_total is None


class CreditEntryKind(models.TextChoices):
    GRANTED = "granted", _("Granted")
    HELD = "held", _("Taken by a hold")
    SPENT = "spent", _("Spent")
    RETURNED = "returned", _("Returned")
    EXPIRED = "expired", _("Expired")
    ADJUSTED = "adjusted", _("Adjusted by the team")


# Kinds that happen at most once per booking (the DB refuses a second one): a booking takes one
# credit, spends it once, gets it back once.
ONCE_PER_BOOKING = (CreditEntryKind.HELD, CreditEntryKind.SPENT, CreditEntryKind.RETURNED)


class CreditEntry(models.Model):
    """One line of the ledger; never changed once written (a DB trigger refuses it)."""

    grant = models.ForeignKey(CreditGrant, on_delete=models.PROTECT, related_name="entries")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_entries")
    kind = models.CharField(max_length=10, choices=CreditEntryKind.choices)
    delta = models.IntegerField()
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries"
    )
    reason = models.CharField(max_length=300, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind"],
                condition=Q(booking__isnull=False, kind__in=ONCE_PER_BOOKING),
                name="credit_entry_once_per_booking",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="credit_entry_customer_idx"),
            models.Index(fields=["grant", "kind"], name="credit_entry_grant_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d}"
