"""The setup checklist ticks each step from the business's real state, says what is left, hides
for the session and disappears once everything is done; the Share panel gives link, QR, embed."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from connect_payments.models import ConnectedAccount
from insights.checklist import setup_steps
from scheduling.models import (
    Booking,
    BookingSource,
    Customer,
    Service,
    StaffMember,
    WorkingHours,
)
from tests.factories import make_member, member_client
from widgets.models import Branding


def _done(tenant) -> dict[str, bool]:
    with tenant_context(tenant):
        return {step.key: step.done for step in setup_steps(tenant=tenant)}


def _book(service: Service, staff: StaffMember, *, email: str, source: str) -> Booking:
    customer = Customer.objects.create(name="Cara", email=email)
    start = timezone.now() + timedelta(days=2 + Booking.objects.count())
    end = start + timedelta(minutes=30)
    return Booking.objects.create(
        reference=f"T{Booking.objects.count() + 1:05d}", service=service, staff=staff,
        customer=customer, starts_at=start, ends_at=end, occupied=(start, end),
        status="confirmed", price_minor=0, currency="EUR", payment_mode="free", source=source,
    )  # fmt: skip


def test_each_step_ticks_from_the_real_state(tenant_alpha, owner_alpha):
    assert _done(tenant_alpha) == dict.fromkeys(
        ["service", "hours", "staff", "payments", "branding", "share", "test_booking"], False
    )
    with tenant_context(tenant_alpha):
        ada = StaffMember.objects.create(display_name="Ada")
        massage = Service.objects.create(
            name="Massage", duration_minutes=60, price_minor=5000, payment_mode="online_full"
        )
    state = _done(tenant_alpha)
    assert state["service"] and not state["hours"] and not state["staff"]
    assert not state["payments"], "a service paid online needs Stripe"

    with tenant_context(tenant_alpha):
        WorkingHours.objects.create(staff=ada, weekday=0, start=time(9), end=time(17))
        StaffMember.objects.create(display_name="Ben")
    state = _done(tenant_alpha)
    assert state["hours"] and state["staff"] and not state["payments"]

    account = ConnectedAccount.objects.create(
        tenant=tenant_alpha, account_id="acct_checklist", charges_enabled=False
    )
    assert not _done(tenant_alpha)["payments"], "an account that cannot charge yet is not done"
    account.charges_enabled = True
    account.save()
    assert _done(tenant_alpha)["payments"]
    account.delete()
    with tenant_context(tenant_alpha):
        Service.objects.filter(pk=massage.pk).update(payment_mode="pay_at_venue")
    assert _done(tenant_alpha)["payments"], "every service paid at the venue: no Stripe needed"

    with tenant_context(tenant_alpha):
        Branding.objects.create(allowed_origins=[])
    assert not _done(tenant_alpha)["branding"], "a saved default look is not branding"
    with tenant_context(tenant_alpha):
        Branding.objects.update(primary_colour="#123456")
    assert _done(tenant_alpha)["branding"]

    with tenant_context(tenant_alpha):
        _book(massage, ada, email=owner_alpha.email, source=BookingSource.BOOKING_PAGE)
    state = _done(tenant_alpha)
    assert state["test_booking"] and not state["share"], "the owner's own booking is a test"
    with tenant_context(tenant_alpha):
        _book(massage, ada, email="cara@example.com", source=BookingSource.STAFF)
    assert not _done(tenant_alpha)["share"], "a phoned-in booking says nothing of sharing"
    with tenant_context(tenant_alpha):
        Branding.objects.update(allowed_origins=["https://salon.example"])
    assert _done(tenant_alpha)["share"]


def test_the_landing_page_says_what_is_left_and_links_each_step(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    html = client.get("/").content.decode()
    assert "7 of 7 steps left." in html
    for url in ("/services/new/", "/staff/", "/payouts/", "/branding/", "/share/", "/book/"):
        assert f'href="{url}"' in html, url
        assert client.get(url).status_code == 200, url
    with tenant_context(tenant_alpha):
        Service.objects.create(name="Cut", duration_minutes=30, price_minor=0, payment_mode="free")
    assert "5 of 7 steps left." in client.get("/").content.decode()  # service + payments


def test_working_alone_links_the_only_staff_member_to_the_owner(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    assert client.post("/setup/working-alone/").status_code == 302
    with tenant_context(tenant_alpha):
        only = StaffMember.objects.get()
        assert only.user_id == owner_alpha.pk
    assert _done(tenant_alpha)["staff"]
    assert client.get("/setup/working-alone/").status_code == 405


def test_hiding_keeps_a_one_line_reminder_and_showing_brings_it_back(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    client.post("/setup/checklist/", {"hidden": "1"})
    html = client.get("/").content.decode()
    assert "Show the checklist" in html and 'data-step="service"' not in html
    client.post("/setup/checklist/", {"hidden": "0"})
    assert 'data-step="service"' in client.get("/").content.decode()


@pytest.mark.parametrize("role", ["front_desk", "staff"])
def test_roles_that_cannot_set_up_see_no_checklist(tenant_alpha, role):
    client = member_client(tenant_alpha, make_member(tenant_alpha, role), verified=True)
    assert 'id="setup-checklist"' not in client.get("/").content.decode()
    assert client.post("/setup/working-alone/").status_code == 403


def test_share_page_gives_the_link_a_qr_code_and_the_embed(tenant_alpha, owner_alpha):
    import base64
    import urllib.parse

    html = member_client(tenant_alpha, owner_alpha, verified=True).get("/share/").content.decode()
    assert 'value="http://alpha.localhost/book/"' in html
    assert "data:image/svg+xml" in html and "data:image/png;base64," in html
    # The embed line, escaped inside its textarea.
    assert "data-creneau=&quot;alpha&quot;" in html and "/widget.js&quot;" in html
    png = html.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(urllib.parse.unquote(png))[:8] == b"\x89PNG\r\n\x1a\n"
