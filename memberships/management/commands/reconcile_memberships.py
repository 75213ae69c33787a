"""`manage.py reconcile_memberships [--tenant SLUG]`: repair members' subscriptions from Stripe."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from memberships.services.memberships_reconcile import memberships_reconcile
from tenants.iteration import each_tenant
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Compare memberships with their Stripe subscriptions and invoices; repair differences."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", help="Only this tenant (slug)")

    def handle(self, *args, **options) -> None:
        tenants = Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        total = 0
        for tenant in each_tenant(tenants):
            for line in memberships_reconcile():
                self.stdout.write(f"{tenant.slug}: {line}")
                total += 1
        self.stdout.write(f"Repaired {total} item(s).")
