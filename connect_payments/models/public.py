"""Public-schema records of payments (created only there, see `connect_payments.routers`): the
tenant <-> connected-account map and the store of received Stripe events."""

from django.db import models
from django.utils import timezone


class ConnectedAccount(models.Model):
    """A tenant's Stripe Express account, as last read from Stripe (`account.updated`)."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="connected_account"
    )
    account_id = models.CharField(max_length=64, unique=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements_currently_due = models.JSONField(default=list, blank=True)
    requirements_disabled_reason = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.account_id} ({self.tenant_id})"


class StripeEventOutcome(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class StripeEvent(models.Model):
    """A verified webhook event, stored once by its id (duplicates are acknowledged, ignored)."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    account_id = models.CharField(max_length=64, blank=True)  # Connect events
    tenant_schema = models.CharField(max_length=63, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=StripeEventOutcome.choices, default=StripeEventOutcome.RECEIVED
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
