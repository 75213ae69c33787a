"""Tenant-aware Celery: a task sent from a tenant request runs in that tenant's schema."""

import time
import uuid

import pytest
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.core import mail
from django.db import connection
from django_tenants.utils import tenant_context

from saas_platform.celery import app
from tenants import services
from tenants.models import AuditEntry, Invitation, Tenant
from tenants.tasks import send_invitation_email
from tests.factories import member_client


@pytest.mark.celery_worker
def test_invitation_task_from_tenant_request_runs_in_tenant_schema_on_real_worker(real_worker):
    tenant = Tenant.objects.get(slug="alpha")
    owner = tenant.memberships.get(role="owner").user
    email = f"worker-{uuid.uuid4().hex[:6]}@example.test"
    try:
        response = member_client(tenant, owner, verified=True).post(
            "/team/", {"action": "invite", "email": email, "role": "staff"}
        )
        assert response.status_code == 302
        # The worker sends the email, then records sent_at: wait for the task to finish.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (Invitation.objects.get(email=email).sent_at is None):
            time.sleep(0.1)
        assert Invitation.objects.get(email=email).sent_at is not None
        assert [m.to for m in mail.outbox] == [[email]], "the worker did not send the invitation"
        assert "Alpha Studio" in mail.outbox[0].subject  # read from connection.tenant in the task

        # And the result says which schema the worker used.
        invitation = Invitation.objects.get(email=email)
        with tenant_context(tenant):
            sent = send_invitation_email.delay(invitation.pk, "http://alpha.localhost/x/")
        # This thread's app.backend may be the eager tests' in-memory one: read from Redis.
        backend = RedisBackend(app=app, url=app.conf.result_backend)
        assert AsyncResult(sent.id, backend=backend, app=app).get(timeout=15) == "t_alpha"
    finally:
        connection.set_schema_to_public()
        Invitation.objects.filter(email=email).delete()
        AuditEntry.objects.filter(data__email=email).delete()
        owner.totpdevice_set.all().delete()


def test_eager_mode_runs_the_task_in_the_tenant_schema(tenant_alpha, owner_alpha, settings):
    assert app.conf.task_always_eager  # the no-Redis mode of `make run`
    membership = tenant_alpha.memberships.get(user=owner_alpha)
    invitation = services.invitation_create(
        tenant=tenant_alpha, actor_membership=membership, email="e@example.test", role="staff"
    )
    with tenant_context(tenant_alpha):
        result = send_invitation_email.delay(invitation.pk, "http://alpha.localhost/x/")
    assert result.get() == "t_alpha"
    assert len(mail.outbox) == 1


def test_task_sent_from_public_schema_cannot_process_tenant_invitation(tenant_alpha, owner_alpha):
    membership = tenant_alpha.memberships.get(user=owner_alpha)
    invitation = services.invitation_create(
        tenant=tenant_alpha, actor_membership=membership, email="p@example.test", role="staff"
    )
    connection.set_schema_to_public()
    with pytest.raises(Exception, match="processed in public"):
        send_invitation_email.delay(invitation.pk, "http://alpha.localhost/x/")
    assert mail.outbox == []
