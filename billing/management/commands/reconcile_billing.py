"""Compare every tenant's subscription with Stripe and repair drift (also a nightly beat job)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.reconcile import billing_reconcile


class Command(BaseCommand):
    help = "Repair each tenant's subscription status, plan and seats from Stripe."

    def handle(self, *args: Any, **options: Any) -> None:
        report = billing_reconcile()
        for line in report.repairs:
            self.stdout.write(f"repaired {line}")
        for line in report.failures:
            self.stderr.write(f"failed {line}")
        self.stdout.write(
            f"{report.checked} subscription(s) checked, {len(report.repairs)} repair(s), "
            f"{len(report.failures)} failure(s)."
        )
