"""End to end over real HTTP: local Stripe delivers signed webhooks straight to the platform
host of a Django server running in a thread (committed data, cleaned up afterwards)."""

from __future__ import annotations

import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django_tenants.utils import tenant_context

from connect_payments.models import BookingPayment, ConnectedAccount, StripeEvent
from connect_payments.services.booking_payments import booking_payment_start
from scheduling.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    Customer,
    SchedulingSettings,
    Service,
    StaffMember,
    WorkingHours,
)
from scheduling.services.customers import customer_upsert
from stripe_local.testing import local, onboarded_account
from tenants.models import Tenant

from .conftest import hold_now


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def live_platform(committed_db):
    server = make_server(
        "127.0.0.1", 0, WSGIHandler(), server_class=_Server, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _clean_alpha(tenant: Tenant, event_ids: list[str]) -> None:
    with tenant_context(tenant):
        from connect_payments.models import PaymentEvent, PaymentRefund

        PaymentEvent.objects.all().delete()
        PaymentRefund.objects.all().delete()
        BookingPayment.objects.all().delete()
        BookingEvent.objects.all().delete()
        Booking.objects.all().delete()
        Customer.objects.all().delete()
        for service in Service.objects.all():
            service.staff.clear()
        Service.objects.all().delete()
        WorkingHours.objects.all().delete()
        StaffMember.objects.all().delete()
        SchedulingSettings.objects.all().delete()
    connection.set_schema_to_public()
    StripeEvent.objects.filter(event_id__in=event_ids).delete()
    StripeEvent.objects.filter(tenant_schema=tenant.schema_name).delete()
    ConnectedAccount.objects.filter(tenant=tenant).delete()


def test_webhooks_over_http_confirm_the_booking_once(live_platform, settings, sdk, stripe_base_url):
    from tests.scheduling.conftest import build_catalogue

    tenant = Tenant.objects.get(slug="alpha")
    endpoints = []
    try:
        account_id = onboarded_account(sdk, stripe_base_url)
        ConnectedAccount.objects.create(tenant=tenant, account_id=account_id, charges_enabled=True)
        for connect in (False, True):
            endpoint = sdk.v1.webhook_endpoints.create(
                params={
                    "url": f"{live_platform}/stripe/webhook/",
                    "enabled_events": ["*"],
                    "connect": connect,
                }
            )
            endpoints.append(endpoint.id)
            name = "STRIPE_CONNECT_WEBHOOK_SECRET" if connect else "STRIPE_WEBHOOK_SECRET"
            setattr(settings, name, endpoint.secret)
        with tenant_context(tenant):
            catalogue = build_catalogue()
            Service.objects.filter(pk=catalogue["service"].pk).update(payment_mode="online_full")
            catalogue["service"].refresh_from_db()
            customer = customer_upsert(name="Live Customer", email="live@example.test")
            booking = hold_now(catalogue["service"], customer)
            payment = booking_payment_start(booking=booking)
            sdk.v1.payment_intents.confirm(
                payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
            )

        assert local(stripe_base_url, "/_local/webhooks/wait", {"timeout": 10})["idle"]
        deadline = time.monotonic() + 10
        with tenant_context(tenant):
            while time.monotonic() < deadline:
                booking.refresh_from_db()
                if booking.status == BookingStatus.CONFIRMED:
                    break
                time.sleep(0.05)
            assert booking.status == BookingStatus.CONFIRMED
            confirmations = BookingEvent.objects.filter(
                booking=booking, to_status="confirmed"
            ).count()
            assert confirmations == 1
            payment.refresh_from_db()
            assert payment.paid_minor == 4500

        deliveries = local(stripe_base_url, "/_local/webhooks/deliveries")["data"]
        ours = [d for d in deliveries if d["url"].startswith(live_platform)]
        assert ours and all(d["status"] == "succeeded" for d in ours)
        assert all(a["status_code"] == 200 for d in ours for a in d["attempts"])
        succeeded = [d for d in ours if d["type"] == "payment_intent.succeeded"]
        assert len(succeeded) == 1
        stored = StripeEvent.objects.get(event_id=succeeded[0]["event"])
        assert stored.outcome == "processed"
        assert stored.tenant_schema == tenant.schema_name
        # Stored once per event id, whatever was delivered.
        assert StripeEvent.objects.filter(event_id__in=[d["event"] for d in ours]).count() == len(
            {d["event"] for d in ours}
        )
    finally:
        for endpoint_id in endpoints:
            sdk.v1.webhook_endpoints.delete(endpoint_id)
        deliveries = local(stripe_base_url, "/_local/webhooks/deliveries")["data"]
        _clean_alpha(tenant, [d["event"] for d in deliveries])


def test_webhook_and_return_path_racing_confirm_once(committed_db, sdk, stripe_base_url):
    """Two threads (the webhook task and the customer's return) re-read the same succeeded
    PaymentIntent at the same moment: the payment's row lock lets one record it."""
    from connect_payments.services.booking_payments import booking_payment_sync
    from tests.scheduling.conftest import build_catalogue

    tenant = Tenant.objects.get(slug="alpha")
    try:
        account_id = onboarded_account(sdk, stripe_base_url)
        ConnectedAccount.objects.create(tenant=tenant, account_id=account_id, charges_enabled=True)
        with tenant_context(tenant):
            catalogue = build_catalogue()
            Service.objects.filter(pk=catalogue["service"].pk).update(payment_mode="online_full")
            catalogue["service"].refresh_from_db()
            customer = customer_upsert(name="Race Customer", email="race@example.test")
            booking = hold_now(catalogue["service"], customer)
            payment = booking_payment_start(booking=booking)
            sdk.v1.payment_intents.confirm(
                payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
            )
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def contender() -> None:
            try:
                with tenant_context(tenant):
                    barrier.wait(timeout=5)
                    booking_payment_sync(payment=BookingPayment.objects.get(pk=payment.pk))
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=contender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)

        assert errors == []
        with tenant_context(tenant):
            booking.refresh_from_db()
            assert booking.status == BookingStatus.CONFIRMED
            assert BookingEvent.objects.filter(booking=booking, to_status="confirmed").count() == 1
            recorded = BookingPayment.objects.get(pk=payment.pk)
            assert recorded.paid_minor == 4500
            assert recorded.events.filter(action="creneau.payment.succeeded").count() == 1
    finally:
        _clean_alpha(tenant, [])
