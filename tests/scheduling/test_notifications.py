"""Customer emails: confirmation with a calendar file, cancellation, move, reminders, failures.

Booking services queue the email with `transaction.on_commit`; tests run those callbacks with
`django_capture_on_commit_callbacks(execute=True)`, and Celery runs eagerly (test settings).
"""

import smtplib
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from icalendar import Calendar
from kombu.exceptions import OperationalError

from notifications.emails import (
    booking_notify_after_commit,
    bookings_due_for_reminder,
    calendar_business,
)
from notifications.tasks import (
    NOTIFICATION_MAX_RETRIES,
    send_booking_notification,
    send_due_reminders_in_every_tenant,
)
from saas_platform.celery import app as celery_app
from scheduling.actors import CUSTOMER, Actor
from scheduling.api.ics import current_business
from scheduling.models import (
    Booking,
    BookingSource,
    BookingStatus,
    NotificationKind,
    NotificationLog,
    NotificationStatus,
    SchedulingSettings,
)
from scheduling.services.bookings import (
    booking_cancel,
    booking_confirm,
    booking_expire,
    booking_hold,
    booking_reschedule,
)
from scheduling.services.customers import customer_upsert
from tenants.models import Tenant
from tests.saas_platform import conftest as platform_fixtures
from widgets.models import Branding

from .conftest import NOW, build_catalogue, paris

real_worker = platform_fixtures.real_worker  # a Celery worker thread on the real Redis broker

FRONT_DESK = Actor("Front Desk", user_id=1)
TEN_AM = paris(2030, 6, 4, 10)  # 08:00 UTC, 26 hours after NOW


def hold(catalogue, customer, start=TEN_AM, **kwargs) -> Booking:
    return booking_hold(
        service=catalogue["service"], starts_at=start, customer=customer, now=NOW,
        staff_id=catalogue["ada"].pk, **kwargs,
    )  # fmt: skip


def confirmed(catalogue, customer, start=TEN_AM) -> Booking:
    """A confirmed booking whose confirmation email was never sent (its callback never ran)."""
    return booking_confirm(booking=hold(catalogue, customer, start))


def ics_of(message) -> Calendar:
    [attachment] = message.attachments
    filename, content, mimetype = attachment
    assert filename.endswith(".ics") and mimetype.startswith("text/calendar")
    return Calendar.from_ical(content)


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def logs(**filters) -> list[NotificationLog]:
    return list(NotificationLog.objects.filter(**filters))


# ---------------------------------------------------------------------------
# Confirmation
# ---------------------------------------------------------------------------
def test_confirmation_is_sent_once_in_the_business_zone_with_manage_link_and_calendar_file(
    catalogue, customer, django_capture_on_commit_callbacks
):
    Branding.objects.create(address="12 rue des Lilas, Paris", contact_email="hello@alpha.test")
    booking = hold(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_confirm(booking=booking)

    [message] = mail.outbox
    assert message.to == ["chloe@example.test"]
    assert message.from_email == "Alpha Studio <no-reply@localhost>"
    assert message.reply_to == ["hello@alpha.test"]
    assert message.subject == "Booking confirmed: Massage on Tuesday 4 June at 10:00"
    assert "Tuesday 4 June 2030, 10:00–11:00 CEST (Europe/Paris time)" in message.body
    assert "08:00" not in message.body  # UTC never shows
    assert "With:      Ada" in message.body
    assert "Where:     12 rue des Lilas, Paris" in message.body
    assert "€45.00, paid online" in message.body  # confirmed by the payment (system actor)
    assert "Full refund if you cancel at least 48" in message.body
    manage = f"http://alpha.localhost/manage/{booking.reference}/?token={booking.manage_token}"
    assert manage in message.body
    assert f'href="{manage}"' in html_of(message)
    assert "Tuesday 4 June 2030, 10:00–11:00 CEST" in html_of(message)

    [event] = ics_of(message).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2030, 6, 4, 8, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2030, 6, 4, 9, 0, tzinfo=UTC)
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["url"]) == manage
    assert booking.reference in str(event["uid"])

    [log] = logs(booking=booking)
    assert (log.kind, log.status, log.recipient, log.attempts) == (
        NotificationKind.CONFIRMED, NotificationStatus.SENT, "chloe@example.test", 1,
    )  # fmt: skip
    assert log.sent_at is not None and log.booking_starts_at == TEN_AM


def test_the_html_email_escapes_everything_a_business_or_a_customer_typed(
    catalogue, django_capture_on_commit_callbacks
):
    """Names, the service, the team member and the address are typed by people: in the HTML
    part they are text, never markup (the plain-text part keeps them as typed)."""
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    tenant = Tenant.objects.get(schema_name=connection.schema_name)
    Tenant.objects.filter(pk=tenant.pk).update(name=f"Studio {attack}")
    connection.tenant = Tenant.objects.get(pk=tenant.pk)
    Branding.objects.create(address=f"1 rue {attack}", contact_phone="", contact_email="")
    catalogue["service"].name = f"Massage {attack}"
    catalogue["service"].save(update_fields=["name"])
    catalogue["ada"].display_name = f"Ada {attack}"
    catalogue["ada"].save(update_fields=["display_name"])
    customer = customer_upsert(name=f"Eve {attack}", email="eve@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking=hold(catalogue, customer))

    [message] = mail.outbox
    html = html_of(message)
    assert "<script" not in html and "<img" not in html and "onerror=alert(1)>" not in html
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    for typed in ("Studio ", "1 rue ", "Massage ", "Ada ", "Eve "):
        assert typed + escaped in html, f"{typed!r} is missing or not escaped"
    assert f"Eve {attack}" in message.body  # plain text is not HTML: shown as typed


def test_second_confirm_and_a_retried_task_send_nothing_more(
    catalogue, customer, django_capture_on_commit_callbacks
):
    booking = hold(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking=booking)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        booking_confirm(booking=booking)  # already confirmed: no-op transition
    assert len(callbacks) == 1  # queued again, and refused by the log

    retried = send_booking_notification.delay(booking.pk, NotificationKind.CONFIRMED.value)

    assert retried.get() == "duplicate"
    assert len(mail.outbox) == 1
    assert len(logs(booking=booking)) == 1


def test_confirmation_of_a_rolled_back_transaction_is_never_queued(
    catalogue, customer, django_capture_on_commit_callbacks
):
    booking = hold(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            booking_confirm(booking=booking)
            raise RuntimeError("the payment record failed")
    assert callbacks == []
    assert mail.outbox == []


def test_walk_in_booked_by_the_team_gets_the_confirmation_without_paid_online_claim(
    catalogue, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_hold(
            service=catalogue["service"], starts_at=paris(2030, 6, 3, 9, 30), customer=customer,
            staff_id=catalogue["ben"].pk, source=BookingSource.STAFF, actor=FRONT_DESK, now=NOW,
            team_booking=True,
        )  # fmt: skip
        booking_confirm(booking=booking, actor=FRONT_DESK, reason="Walk-in")

    [message] = mail.outbox
    assert "Monday 3 June 2030, 09:30–10:30 CEST" in message.body
    assert "With:      Ben" in message.body
    assert "€45.00, to settle with Alpha Studio" in message.body
    assert "paid online" not in message.body


def test_holds_and_expiries_send_nothing(catalogue, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        booking = hold(catalogue, customer)
        booking_expire(booking_ids=[booking.pk], now=NOW + timedelta(minutes=11))
        abandoned = hold(catalogue, customer, paris(2030, 6, 4, 14))
        booking_cancel(booking=abandoned, actor=CUSTOMER, by_business=False,
                                now=NOW)  # fmt: skip
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert len(callbacks) == 1  # the cancelled hold's task ran, and found nothing to say
    assert mail.outbox == []
    assert logs() == []


def test_calendar_file_names_the_event_like_the_download(alpha_schema):
    # Same UID domain as /api/v1/bookings/<ref>/calendar.ics: calendar apps update, not duplicate.
    assert calendar_business() == current_business()


# ---------------------------------------------------------------------------
# Cancellation and move
# ---------------------------------------------------------------------------
def test_cancellation_email_tells_the_refund_and_cancels_the_calendar_event(
    catalogue, customer, django_capture_on_commit_callbacks
):
    booking = confirmed(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        decision = booking_cancel(
            booking=booking, actor=CUSTOMER, by_business=False, paid_minor=4500, now=NOW
        )

    assert decision.amount_minor == 2250  # 26 hours ahead: the 50 % tier
    [message] = mail.outbox
    assert message.subject == "Booking cancelled: Massage on Tuesday 4 June at 10:00"
    assert "A refund of €22.50 is on its way" in message.body
    assert "€22.50" in html_of(message)
    [event] = ics_of(message).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 1
    assert logs(booking=booking)[0].kind == NotificationKind.CANCELLED


def test_cancellation_without_online_payment_says_nothing_about_refunds(
    catalogue, customer, django_capture_on_commit_callbacks
):
    booking = confirmed(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, actor=FRONT_DESK, by_business=True, now=NOW)
        booking_cancel(booking=booking, actor=FRONT_DESK, by_business=True, now=NOW)

    [message] = mail.outbox  # the second cancel changed nothing and sent nothing
    assert "has been cancelled" in message.body
    assert "refund" not in message.body.lower()


def test_reschedule_email_shows_old_and_new_time_with_a_new_calendar_file(
    catalogue, customer, django_capture_on_commit_callbacks
):
    booking = confirmed(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(
            booking=booking, new_start=paris(2030, 6, 5, 14), actor=FRONT_DESK, now=NOW
        )

    [message] = mail.outbox
    assert message.subject == "Booking moved: Massage now on Wednesday 5 June at 14:00"
    assert "Before:    Tuesday 4 June 2030, 10:00 CEST" in message.body
    assert "Now:       Wednesday 5 June 2030, 14:00 CEST" in message.body
    assert "Wednesday 5 June 2030, 14:00–15:00 CEST (Europe/Paris time)" in message.body
    [event] = ics_of(message).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2030, 6, 5, 12, 0, tzinfo=UTC)
    assert int(event["sequence"]) == 1

    # Moving back to the first time is news again: each move has its own key.
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(booking=booking, new_start=TEN_AM, actor=FRONT_DESK, now=NOW)
    assert len(mail.outbox) == 2
    assert "Now:       Tuesday 4 June 2030, 10:00 CEST" in mail.outbox[1].body
    assert len(logs(booking=booking, kind=NotificationKind.RESCHEDULED)) == 2


def test_refund_notification_is_sent_once_per_refund(
    catalogue, customer, django_capture_on_commit_callbacks
):
    # What the payments code calls once Stripe confirms a refund.
    booking = confirmed(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # the refund.updated event delivered twice
            booking_notify_after_commit(
                booking_id=booking.pk, kind=NotificationKind.REFUNDED, refund_minor=2250,
                key="refund-7",
            )  # fmt: skip

    [message] = mail.outbox
    assert message.subject == f"Refund of €22.50 for your booking {booking.reference}"
    assert "Alpha Studio has refunded €22.50 to the card you paid with" in message.body
    assert message.attachments == []
    [log] = logs(booking=booking)
    assert (log.kind, log.key, log.status) == ("refunded", "refund-7", NotificationStatus.SENT)


# ---------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------
REMINDER_SWEEP = paris(2030, 6, 3, 11)  # 23 hours before TEN_AM


def sweep(at: datetime = REMINDER_SWEEP) -> dict[str, int]:
    connection.set_schema_to_public()  # beat sends from public, like celery beat does
    return send_due_reminders_in_every_tenant.delay(now=at.isoformat()).get()


def test_due_reminder_is_sent_once_with_the_manage_link(catalogue, customer, tenant_alpha):
    booking = confirmed(catalogue, customer)

    assert sweep() == {"t_alpha": 1}
    assert sweep(REMINDER_SWEEP + timedelta(minutes=15)) == {}

    [message] = mail.outbox
    assert message.subject == "Reminder: Massage on Tuesday 4 June at 10:00"
    assert "Tuesday 4 June 2030, 10:00–11:00 CEST (Europe/Paris time)" in message.body
    assert f"/manage/{booking.reference}/?token={booking.manage_token}" in message.body
    assert message.attachments == []
    with tenant_context(tenant_alpha):
        [log] = logs(booking_id=booking.pk)
    assert (log.kind, log.status) == (NotificationKind.REMINDER, NotificationStatus.SENT)


def test_not_due_cancelled_held_and_last_minute_bookings_get_no_reminder(
    catalogue, customer, alpha_schema
):
    later = confirmed(catalogue, customer, paris(2030, 6, 5, 14))  # 51 hours ahead
    cancelled = confirmed(catalogue, customer, paris(2030, 6, 4, 14))
    booking_cancel(booking=cancelled, actor=FRONT_DESK, by_business=True, now=NOW)
    hold(catalogue, customer, paris(2030, 6, 4, 16))
    last_minute = confirmed(catalogue, customer, paris(2030, 6, 4, 12))
    Booking.objects.filter(pk=last_minute.pk).update(created_at=paris(2030, 6, 3, 13))
    due = confirmed(catalogue, customer)

    assert bookings_due_for_reminder(now=REMINDER_SWEEP) == [due.pk]
    assert sweep() == {"t_alpha": 1}
    assert [m.subject for m in mail.outbox] == ["Reminder: Massage on Tuesday 4 June at 10:00"]
    # The later booking is reminded once its time comes.
    assert sweep(paris(2030, 6, 4, 15)) == {"t_alpha": 1}
    assert len(mail.outbox) == 2 and "Wednesday 5 June" in mail.outbox[1].subject
    with tenant_context(alpha_schema):
        assert logs(booking_id=later.pk)[0].kind == NotificationKind.REMINDER


def test_moved_booking_is_reminded_of_its_new_time(catalogue, customer, alpha_schema):
    booking = confirmed(catalogue, customer)
    assert sweep() == {"t_alpha": 1}
    with tenant_context(alpha_schema):
        booking_reschedule(
            booking=booking, new_start=paris(2030, 6, 4, 9), actor=FRONT_DESK, now=NOW
        )
    assert sweep(REMINDER_SWEEP + timedelta(minutes=15)) == {"t_alpha": 1}
    assert "at 09:00" in mail.outbox[-1].subject


def test_due_reminders_are_found_in_one_query(catalogue, customer):
    for hour in (10, 12, 14):
        confirmed(catalogue, customer, paris(2030, 6, 4, hour))
    with CaptureQueriesContext(connection) as queries:
        assert len(bookings_due_for_reminder(now=paris(2030, 6, 3, 15))) == 3
    selects = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(selects) == 1


def test_reminder_sweep_runs_in_every_tenant_schema(catalogue, customer, tenant_alpha, tenant_beta):
    confirmed(catalogue, customer)  # alpha: 08:00 UTC on 4 June
    with tenant_context(tenant_beta):
        beta = build_catalogue()
        beta_customer = customer_upsert(name="Bo Buyer", email="bo@example.test")
        new_york_ten_am = datetime(2030, 6, 4, 10, tzinfo=ZoneInfo("America/New_York"))
        beta_booking = confirmed(beta, beta_customer, new_york_ten_am)  # 14:00 UTC

    assert sweep(datetime(2030, 6, 3, 15, tzinfo=UTC)) == {"t_alpha": 1, "t_beta": 1}

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert by_recipient["chloe@example.test"].from_email.startswith("Alpha Studio")
    beta_message = by_recipient["bo@example.test"]
    assert beta_message.from_email.startswith("Beta Gym")
    assert "Tuesday 4 June 2030, 10:00–11:00 EDT (America/New_York time)" in beta_message.body
    assert "http://beta.localhost/manage/" in beta_message.body
    with tenant_context(tenant_beta):
        assert [log.booking_id for log in logs()] == [beta_booking.pk]
    with tenant_context(tenant_alpha):
        assert [log.recipient for log in logs()] == ["chloe@example.test"]


# ---------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------
def refuse_to_send(self, messages):
    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_failing_email_backend_records_failed_and_never_breaks_the_confirmation(
    catalogue, customer, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse_to_send)
    booking = hold(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_confirm(booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    [log] = logs(booking=booking)
    assert (log.status, log.attempts, log.sent_at) == (NotificationStatus.FAILED, 1, None)
    assert "SMTPServerDisconnected" in log.error

    # Once mail works again, the retry sends it, once.
    monkeypatch.undo()
    assert send_booking_notification.delay(booking.pk, "confirmed").get() == "sent"
    assert send_booking_notification.delay(booking.pk, "confirmed").get() == "duplicate"
    assert len(mail.outbox) == 1
    log.refresh_from_db()
    assert (log.status, log.error, log.attempts) == (NotificationStatus.SENT, "", 2)


def test_failing_email_is_retried_with_backoff_then_given_up(catalogue, customer, monkeypatch):
    booking = confirmed(catalogue, customer)
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse_to_send)
    # As on a worker: a retry is scheduled rather than raised to the caller (Celery's eager mode
    # then runs it at once instead of after the countdown).
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    countdowns = []
    original_retry = send_booking_notification.retry

    def spy(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return original_retry(*args, **kwargs)

    monkeypatch.setattr(send_booking_notification, "retry", spy)

    result = send_booking_notification.apply(args=[booking.pk, "confirmed"])

    assert result.get() == "failed"  # given up without raising
    assert countdowns == [60, 120, 240, 480, 960]
    [log] = logs(booking=booking)
    assert (log.status, log.attempts) == (NotificationStatus.FAILED, 1 + NOTIFICATION_MAX_RETRIES)
    assert mail.outbox == []


def test_broker_outage_does_not_break_the_confirmation(
    catalogue, customer, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(send_booking_notification, "apply_async", broker_down)
    booking = hold(catalogue, customer)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_confirm(booking=booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert mail.outbox == []


def test_notification_task_refuses_the_public_schema(catalogue, customer):
    booking = confirmed(catalogue, customer)
    connection.set_schema_to_public()
    with pytest.raises(RuntimeError, match="tenant's schema"):
        send_booking_notification.delay(booking.pk, "confirmed")
    assert mail.outbox == []


# ---------------------------------------------------------------------------
# A real worker
# ---------------------------------------------------------------------------
@pytest.mark.celery_worker
def test_confirmation_reaches_a_real_worker_in_the_tenant_schema(real_worker):
    """Committed booking, real broker: the task carries the schema captured at confirmation."""
    tenant_alpha = Tenant.objects.get(slug="alpha")  # not the fixture: it opens a transaction
    email = f"worker-{uuid.uuid4().hex[:6]}@example.test"
    with tenant_context(tenant_alpha):
        had_settings = SchedulingSettings.objects.exists()
        catalogue = build_catalogue()
        customer = customer_upsert(name="Wanda Worker", email=email)
    try:
        with tenant_context(tenant_alpha):
            booking = booking_confirm(booking=hold(catalogue, customer))
        connection.set_schema_to_public()  # the callback already ran: autocommit
        deadline = time.monotonic() + 30
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
        [message] = mail.outbox
        assert message.to == [email]
        assert message.from_email == "Alpha Studio <no-reply@localhost>"
        assert "10:00–11:00 CEST (Europe/Paris time)" in message.body
        with tenant_context(tenant_alpha):
            [log] = logs(booking_id=booking.pk)
        assert log.status == NotificationStatus.SENT
    finally:
        with tenant_context(tenant_alpha):
            NotificationLog.objects.filter(booking__customer=customer).delete()
            Booking.objects.filter(customer=customer).delete()
            customer.delete()
            catalogue["service"].delete()
            for staff in (catalogue["ada"], catalogue["ben"]):
                staff.delete()
            if not had_settings:
                SchedulingSettings.objects.all().delete()
