"""The beat job that expires credits and reminds customers 7 days before (emails through the
outbox, once), and tenant isolation of customers and ledgers."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from memberships.models import CreditEntry, CreditGrant
from memberships.selectors.credits import credit_balances_of, usable_grant_for
from memberships.tasks import expire_credits_in_every_tenant
from scheduling.services.customers import customer_upsert
from tests.scheduling.conftest import build_catalogue, paris

from .conftest import grant_credits


def sweep(at, captured):
    connection.set_schema_to_public()  # beat sends from public
    with captured(execute=True):  # the reminder's outbox row is handed to Celery at commit
        return expire_credits_in_every_tenant.delay(now=at.isoformat()).get()


def test_expiry_job_expires_due_credits_and_reminds_a_week_before_once(
    tenant_alpha, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Chloé Client", email="chloe@example.test")
        soon = grant_credits(customer, credits=5, key="soon", expires_at=now + timedelta(days=3),
                             services=[catalogue["service"]])  # fmt: skip
        past = grant_credits(customer, credits=2, key="past", expires_at=now - timedelta(hours=1))
        far = grant_credits(customer, credits=8, key="far", expires_at=now + timedelta(days=30))
    assert sweep(now, django_capture_on_commit_callbacks) == {
        "t_alpha": {"expired": 1, "reminded": 1}
    }
    assert sweep(now + timedelta(minutes=15), django_capture_on_commit_callbacks) == {}
    [message] = mail.outbox
    assert message.to == ["chloe@example.test"]
    assert message.subject == "Your 5 credit(s) at Alpha Studio expire soon"
    assert "5 credits of your Pass at Alpha Studio expire on" in message.body
    with tenant_context(tenant_alpha):
        assert CreditGrant.objects.get(pk=past.pk).remaining == 0
        assert CreditEntry.objects.filter(grant=past, kind="expired").get().delta == -2
        assert CreditGrant.objects.get(pk=soon.pk).remaining == 5  # reminded, not expired
        assert CreditGrant.objects.get(pk=far.pk).expiry_reminder_sent_at is None
    # Three days later the reminded grant expires too.
    assert sweep(now + timedelta(days=3, minutes=1), django_capture_on_commit_callbacks) == {
        "t_alpha": {"expired": 1, "reminded": 0}
    }
    assert len(mail.outbox) == 1


def test_customers_and_ledgers_of_one_business_are_unknown_to_another(tenant_alpha, tenant_beta):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        chloe = customer_upsert(name="Chloé Client", email="chloe@example.test")
        grant_credits(chloe, credits=10, services=[])
        assert usable_grant_for(customer=chloe, service=catalogue["service"],
                                starts_at=paris(2030, 6, 4, 10)) is not None  # fmt: skip
    with tenant_context(tenant_beta):
        beta_catalogue = build_catalogue()
        same_email = customer_upsert(name="Chloé at Beta", email="chloe@example.test")
        assert CreditGrant.objects.count() == 0 and CreditEntry.objects.count() == 0
        assert credit_balances_of(customer=same_email) == []
        assert usable_grant_for(customer=same_email, service=beta_catalogue["service"],
                                starts_at=paris(2030, 6, 4, 10)) is None  # fmt: skip
