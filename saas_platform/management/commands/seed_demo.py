"""Demo data for `make run`: the Studio Zen tenant with its catalogue, its owner and an operator.

In the project package because it wires every app (tenants, scheduling, payments).

Idempotent."""

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from connect_payments.demo import demo_connected_account_ensure
from memberships.demo import demo_passes_seed
from scheduling.demo import demo_catalogue_seed
from tenants.models import Tenant, User
from tenants.services import operator_create, tenant_provision, tenant_url

DEMO_OWNER_EMAIL = "owner@zen.example"
DEMO_PASSWORD = "zen-demo-2026"
DEMO_OPERATOR_EMAIL = "operator@creneau.example"


class Command(BaseCommand):
    help = "Create the demo tenant 'Studio Zen' (zen) with a demo owner, if missing."

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug="zen").first()
        if tenant is None:
            tenant = tenant_provision(
                name="Studio Zen",
                slug="zen",
                owner_email=DEMO_OWNER_EMAIL,
                owner_name="Zoé Martin",
                owner_password=DEMO_PASSWORD,
                country="FR",
                currency="EUR",
                time_zone="Europe/Paris",
                owner=User.objects.filter(email=DEMO_OWNER_EMAIL).first(),
            )
            self.stdout.write("Created the demo tenant Studio Zen.")
        with tenant_context(tenant):
            if demo_catalogue_seed():
                self.stdout.write("Added demo staff, hours, services and bookings to Studio Zen.")
            if demo_passes_seed():
                self.stdout.write("Put a 10-class yoga pass on sale at Studio Zen (/my/passes/).")
        # Online payments in development: an onboarded account in local Stripe (not real Stripe).
        if demo_connected_account_ensure(tenant=tenant, email=DEMO_OWNER_EMAIL):
            self.stdout.write("Connected Studio Zen to local Stripe: online payments are on.")
        if not User.objects.filter(email=DEMO_OPERATOR_EMAIL).exists():
            operator_create(
                email=DEMO_OPERATOR_EMAIL, full_name="Demo Operator", password=DEMO_PASSWORD
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Studio Zen:  {tenant_url(tenant)}\n"
                f"  Owner login: {DEMO_OWNER_EMAIL} / {DEMO_PASSWORD}\n"
                f"  Operator:    {DEMO_OPERATOR_EMAIL} / {DEMO_PASSWORD} (console: "
                f"{tenant_url(tenant).replace('zen.', '', 1)}console/)\n"
            )
        )
