"""Create or update the plans' Stripe Products and Prices (idempotent: run it on every deploy)."""

from __future__ import annotations

from typing import Any

import stripe
from django.core.management.base import BaseCommand, CommandError

from billing.catalogue import plans_sync_to_stripe


class Command(BaseCommand):
    help = "Create or update the plans' Stripe Products and Prices, found by lookup_key."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            changes = plans_sync_to_stripe()
        except stripe.StripeError as error:
            raise CommandError(f"Stripe refused or could not be reached: {error}") from error
        for change in changes:
            self.stdout.write(change)
        self.stdout.write(f"Plans in sync with Stripe ({len(changes)} change(s)).")
