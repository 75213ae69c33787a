"""`manage.py reconcile_payments [--tenant SLUG] [--days N]`: repair what lost webhooks left."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from connect_payments.services.reconcile import payments_reconcile
from connect_payments.services.refunds import refunds_retry_pending
from tenants.iteration import each_tenant
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Compare recent booking payments, fees and refunds with Stripe; repair what differs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", help="Only this tenant (slug)")
        parser.add_argument("--days", type=int, default=3, help="How far back to look (days)")

    def handle(self, *args, **options) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        tenants = Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        since = timezone.now() - timedelta(days=options["days"])
        total = 0
        for tenant in each_tenant(tenants):
            retried = refunds_retry_pending()
            lines = payments_reconcile(since=since)
            for line in lines:
                self.stdout.write(f"{tenant.slug}: {line}")
            if retried:
                self.stdout.write(f"{tenant.slug}: {retried} pending refund(s) sent")
            total += len(lines) + retried
        self.stdout.write(f"Repaired {total} item(s).")
