"""Customer pages, their JSON helpers, framing headers and the loader script (test client)."""

import http.client
import json
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from scheduling.models import Booking, Occurrence, Service, StaffMember, WorkingHours
from scheduling.services.bookings import booking_hold
from scheduling.services.customers import customer_upsert
from tests.factories import client_for
from tests.widgets.conftest import build_widget_catalogue
from widgets.models import Branding
from widgets.selectors import days_with_availability
from widgets.services import branding_update

from .images import png

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def catalogue(tenant_alpha):
    with tenant_context(tenant_alpha):
        yield build_widget_catalogue()


@pytest.fixture
def alpha(tenant_alpha):
    return client_for(tenant_alpha)


def _config(response) -> dict:
    match = re.search(r'<script id="cr-config" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)  # fmt: skip
    return json.loads(match.group(1))


def _held(service: Service) -> Booking:
    """A hold three days ahead at 10:00 in Paris (inside the catalogue's working hours)."""
    start = timezone.now().astimezone(PARIS).replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=3)
    customer = customer_upsert(name="Chloé Client", email="chloe@example.test")
    return booking_hold(service=service, starts_at=start, customer=customer)


# ---------------------------------------------------------------------------
# Booking page and framing
# ---------------------------------------------------------------------------
def test_booking_page_carries_its_configuration(alpha, catalogue):
    response = alpha.get("/book/")
    assert response.status_code == 200
    config = _config(response)
    assert config["page"] == "book"
    assert config["tenant"] == {"name": "Alpha Studio", "time_zone": "Europe/Paris",
                                "currency": "EUR", "address": ""}  # fmt: skip
    assert config["policies"][str(catalogue["haircut"].pk)].startswith("Full refund")
    assert config["require_phone"] is False
    assert config["strings"]["slot_taken"] == "That time was just taken — please pick another time."
    assert "<script>" not in response.content.decode()  # no inline script: a strict CSP works


STRIPE_HOSTED = {"STRIPE_JS_URL": "", "STRIPE_API_BASE": ""}


@override_settings(**STRIPE_HOSTED)
def test_booking_page_may_be_framed_only_by_allowed_websites(alpha, catalogue):
    response = alpha.get("/book/")
    assert response["Content-Security-Policy"].startswith("frame-ancestors 'self';")
    assert "X-Frame-Options" not in response
    branding_update(branding=Branding(), fields={"allowed_origins": ["https://salon.example"]})
    response = alpha.get("/book/")
    assert response["Content-Security-Policy"].startswith(
        "frame-ancestors 'self' https://salon.example;"
    )


@pytest.mark.parametrize("path", ["/book/", "/manage/ANY-REF/?token=x"])
@override_settings(**STRIPE_HOSTED)
def test_customer_pages_run_only_their_own_scripts_and_stripe_js(alpha, catalogue, path):
    assert alpha.get(path)["Content-Security-Policy"] == (
        "frame-ancestors 'self'; "
        "script-src 'self' https://js.stripe.com https://*.js.stripe.com; "
        "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; "
        "object-src 'none'; base-uri 'none'"
    )


@pytest.mark.parametrize(
    ("stripe", "source"),
    [
        ({"STRIPE_API_BASE": "http://127.0.0.1:12111/", "STRIPE_JS_URL": ""},
         "http://127.0.0.1:12111"),  # the local Stripe server's stand-in at /v3/
        ({"STRIPE_API_BASE": "", "STRIPE_JS_URL": "https://stripe.internal.example:8443/v3/"},
         "https://stripe.internal.example:8443"),
    ],
)  # fmt: skip
def test_scripts_and_frames_follow_the_stripe_js_in_use(alpha, catalogue, stripe, source):
    with override_settings(**stripe):
        policy = alpha.get("/book/")["Content-Security-Policy"]
    assert f"; script-src 'self' {source}; frame-src {source};" in policy
    assert "stripe.com" not in policy


def test_back_office_pages_keep_x_frame_options_deny(alpha, catalogue):
    assert alpha.get("/account/login/")["X-Frame-Options"] == "DENY"


def test_direct_link_preselects_its_service_and_unknown_ones_are_404(alpha, catalogue):
    haircut = catalogue["haircut"]
    assert _config(alpha.get(f"/book/{haircut.pk}/"))["preselect"]["service"] == haircut.pk
    assert alpha.get("/book/999999/").status_code == 404


def test_messages_go_only_to_an_allowed_embedding_origin(alpha, catalogue):
    branding_update(branding=Branding(), fields={"allowed_origins": ["https://salon.example"]})
    allowed = _config(alpha.get("/book/?mode=inline&origin=https://salon.example"))["embed"]
    assert allowed == {"mode": "inline", "parent_origin": "https://salon.example"}
    other = _config(alpha.get("/book/?mode=popup&origin=https://evil.example"))["embed"]
    assert other == {"mode": "popup", "parent_origin": None}


@pytest.mark.parametrize(
    ("query", "accept", "default", "expected"),
    [
        ("?lang=fr", "en-US,en", "en", "fr"),  # data-locale wins
        ("", "fr-CA,fr;q=0.9", "en", "fr"),  # then the browser
        ("", "de-DE,de", "fr", "fr"),  # then the business's default
        ("", "", "en", "en"),
        ("?lang=xx", "en", "fr", "en"),
    ],
)
def test_language_follows_locale_then_browser_then_business(
    alpha, catalogue, query, accept, default, expected
):
    branding_update(branding=Branding(), fields={"default_language": default})
    response = alpha.get("/book/" + query, HTTP_ACCEPT_LANGUAGE=accept)
    assert response["Content-Language"] == expected
    config = _config(response)
    assert config["lang"] == expected
    title = {"en": "Choose a service", "fr": "Choisissez une prestation"}[expected]
    assert config["strings"]["steps.service"] == title
    assert f'<html lang="{expected}"' in response.content.decode()


def test_french_page_uses_the_french_cancellation_policy(alpha, catalogue):
    config = _config(alpha.get("/book/?lang=fr"))
    assert config["policies"][str(catalogue["haircut"].pk)].startswith("Remboursement intégral")


def test_suspended_business_page_reads_well_inside_an_iframe(alpha, tenant_alpha, catalogue):
    tenant_alpha.status = "suspended"
    tenant_alpha.suspended_reason = "Unpaid invoices"
    tenant_alpha.save()
    response = alpha.get("/book/?mode=inline", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 503
    body = response.content.decode()
    assert "La réservation en ligne est suspendue" in body
    assert "Unpaid invoices" not in body  # the reason is for the team, not for customers
    assert response["Content-Security-Policy"].startswith("frame-ancestors 'self'")
    assert "X-Frame-Options" not in response
    assert _config(response)["page"] == "unavailable"


def test_business_branding_shows_on_the_page(alpha, catalogue):
    branding = branding_update(branding=Branding(), fields={
        "welcome_text": "Bienvenue", "address": "1 rue de la Paix, Paris",
        "contact_phone": "+33 1 23 45 67 89",
    })  # fmt: skip
    body = alpha.get("/book/").content.decode()
    assert "Bienvenue" in body and "1 rue de la Paix, Paris" in body
    assert f"/widget/theme.css?v={int(branding.updated_at.timestamp())}" in body


def test_theme_stylesheet_carries_the_brand_as_custom_properties(alpha, catalogue):
    branding_update(branding=Branding(), fields={"primary_colour": "#FFD33D",
                                                 "corner_style": "pill"})  # fmt: skip
    response = alpha.get("/widget/theme.css")
    assert response["Content-Type"] == "text/css; charset=utf-8"
    css = response.content.decode()
    assert "--cr-primary:#ffd33d;" in css
    assert "--cr-on-primary:#1f2328;" in css  # dark text on a light brand colour
    assert "--cr-radius:999px;" in css


def test_logo_is_served_with_its_type_and_cached_by_version(alpha, catalogue):
    from widgets.services import branding_set_logo

    branding = branding_set_logo(branding=Branding(), data=png(40, 20), name="logo.png")
    response = alpha.get(f"/widget/logo/{branding.logo_version}/")
    assert response["Content-Type"] == "image/png"
    assert response.content == png(40, 20)
    assert "immutable" in response["Cache-Control"]
    assert alpha.get("/widget/logo/0000000000000000/").status_code == 404


# ---------------------------------------------------------------------------
# Manage page
# ---------------------------------------------------------------------------
def test_manage_page_needs_the_right_token(alpha, catalogue):
    booking = _held(catalogue["haircut"])
    response = alpha.get(f"/manage/{booking.reference}/?token={booking.manage_token}")
    assert response.status_code == 200
    assert _config(response)["booking"] == {"reference": booking.reference,
                                            "token": booking.manage_token}  # fmt: skip
    assert response["Referrer-Policy"] == "no-referrer"
    wrong = alpha.get(f"/manage/{booking.reference}/?token=nope")
    assert wrong.status_code == 404
    assert "We could not find this booking" in wrong.content.decode()
    assert booking.manage_token not in wrong.content.decode()


def test_manage_helper_shows_the_refund_before_cancelling(alpha, catalogue):
    booking = _held(catalogue["massage"])
    response = alpha.get(f"/widget/bookings/{booking.reference}/?token={booking.manage_token}")
    data = response.json()
    assert data["service_id"] == catalogue["massage"].pk
    assert data["refund_percent_now"] == 100 and data["changeable"] is True
    assert data["reschedulable"] is True
    assert data["policy_text"].startswith("Full refund if you cancel at least 24")
    soon = _held(catalogue["haircut"])
    Booking.objects.filter(pk=soon.pk).update(starts_at=timezone.now() + timedelta(hours=2))
    late = alpha.get(f"/widget/bookings/{soon.reference}/?token={soon.manage_token}").json()
    assert late["refund_percent_now"] == 0
    assert alpha.get(f"/widget/bookings/{booking.reference}/?token=x").status_code == 404


# ---------------------------------------------------------------------------
# Confirming without payment
# ---------------------------------------------------------------------------
def _confirm(client, booking: Booking, token: str | None = None):
    return client.post(f"/widget/bookings/{booking.reference}/confirm/",
                       {"token": token or booking.manage_token},
                       content_type="application/json")  # fmt: skip


def test_pay_at_venue_hold_is_confirmed_by_the_customer_once(alpha, catalogue):
    booking = _held(catalogue["haircut"])
    first = _confirm(alpha, booking)
    assert first.status_code == 200 and first.json()["status"] == "confirmed"
    assert _confirm(alpha, booking).status_code == 200  # twice is harmless
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert booking.events.filter(action="creneau.booking.confirmed").count() == 1


def test_confirming_needs_the_token(alpha, catalogue):
    booking = _held(catalogue["haircut"])
    response = _confirm(alpha, booking, token="wrong")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_an_online_payment_booking_cannot_skip_payment(alpha, catalogue):
    booking = _held(catalogue["massage"])
    response = _confirm(alpha, booking)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_required"
    booking.refresh_from_db()
    assert booking.status == "held"


def test_an_expired_hold_cannot_be_confirmed(alpha, catalogue):
    booking = _held(catalogue["consult"])
    Booking.objects.filter(pk=booking.pk).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = _confirm(alpha, booking)
    assert response.status_code == 409 and response.json()["error"]["code"] == "hold_expired"


# ---------------------------------------------------------------------------
# Days with availability
# ---------------------------------------------------------------------------
def test_days_endpoint_lists_open_days_of_a_month(alpha, catalogue):
    next_month = timezone.now().astimezone(PARIS).date().replace(day=1) + timedelta(days=32)
    month = next_month.strftime("%Y-%m")
    response = alpha.get(f"/widget/days/?service={catalogue['haircut'].pk}&month={month}"
                         "&tz=Europe/Paris")  # fmt: skip
    assert response.status_code == 200
    data = response.json()
    assert data["month"] == month and data["time_zone"] == "Europe/Paris"
    assert f"{month}-01" in data["days"] and all(day.startswith(month) for day in data["days"])


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("service=999999&month=2030-06", 404, "service"),
        ("service=²&month=2030-06", 404, "service"),
        ("service={service}&month=2030-13", 400, "month"),
        ("service={service}&month=june", 400, "month"),
        ("service={service}&month=2030-06&tz=Mars/Olympus", 400, "tz"),
        ("service={service}&month=2030-06&staff=999999", 404, "staff"),
    ],
)
def test_days_endpoint_refuses_bad_input(alpha, catalogue, query, status, field):
    response = alpha.get("/widget/days/?" + query.format(service=catalogue["haircut"].pk))
    assert response.status_code == status
    assert response.json()["error"]["field"] == field


def test_days_are_counted_in_the_customer_zone(tenant_alpha):
    with tenant_context(tenant_alpha):
        ada = StaffMember.objects.create(display_name="Ada")
        WorkingHours.objects.create(staff=ada, weekday=0, start=time(8), end=time(20))  # Mondays
        service = Service.objects.create(
            name="Yoga", duration_minutes=60, price_minor=0, payment_mode="free",
            minimum_notice_minutes=0, slot_interval_minutes=60, maximum_advance_days=60,
        )  # fmt: skip
        service.staff.add(ada)
        now = datetime(2030, 6, 1, 9, 0, tzinfo=PARIS)
        june = dict(service=service, first_day=date(2030, 6, 1), last_day=date(2030, 6, 30),
                    now=now)  # fmt: skip
        paris_days = days_with_availability(zone="Europe/Paris", **june)
        assert [d.day for d in paris_days] == [3, 10, 17, 24]
        # Monday 08:00–20:00 in Paris (UTC+2) is Monday 20:00 – Tuesday 08:00 at UTC+14.
        kiritimati_days = days_with_availability(zone="Pacific/Kiritimati", **june)
        assert [d.day for d in kiritimati_days] == [3, 4, 10, 11, 17, 18, 24, 25]


def test_days_of_a_group_service_follow_the_chosen_teacher(tenant_alpha):
    with tenant_context(tenant_alpha):
        ada = StaffMember.objects.create(display_name="Ada")
        ben = StaffMember.objects.create(display_name="Ben")
        service = Service.objects.create(
            name="Pilates", duration_minutes=60, price_minor=0, payment_mode="free", capacity=8,
            minimum_notice_minutes=0, maximum_advance_days=60,
        )  # fmt: skip
        service.staff.add(ada, ben)
        for day, teacher in ((3, ada), (4, ben), (5, ada)):
            start = datetime(2030, 6, day, 18, 0, tzinfo=PARIS)
            Occurrence.objects.create(service=service, staff=teacher, starts_at=start,
                                      ends_at=start + timedelta(hours=1), capacity=8)  # fmt: skip
        june = dict(service=service, first_day=date(2030, 6, 1), last_day=date(2030, 6, 30),
                    zone="Europe/Paris", now=datetime(2030, 6, 1, 9, 0, tzinfo=PARIS))  # fmt: skip
        assert [d.day for d in days_with_availability(**june)] == [3, 4, 5]
        assert [d.day for d in days_with_availability(staff_id=ada.pk, **june)] == [3, 5]
        assert [d.day for d in days_with_availability(staff_id=ben.pk, **june)] == [4]
        # A seat being moved from the session of the 3rd: its own day is not offered.
        own = Occurrence.objects.get(service=service, starts_at__day=3)
        assert [d.day for d in days_with_availability(exclude_occurrence_id=own.pk, **june)] == [
            4,
            5,
        ]


def test_days_endpoint_leaves_out_the_session_a_seat_moves_from(alpha, tenant_alpha):
    with tenant_context(tenant_alpha):
        ada = StaffMember.objects.create(display_name="Ada")
        service = Service.objects.create(
            name="Barre", duration_minutes=60, price_minor=0, payment_mode="free", capacity=8,
            minimum_notice_minutes=0, maximum_advance_days=60,
        )  # fmt: skip
        service.staff.add(ada)
        today = timezone.now().astimezone(PARIS).date()
        sessions = []
        for ahead in (3, 4):
            start = datetime.combine(today + timedelta(days=ahead), time(18), PARIS)
            sessions.append(Occurrence.objects.create(
                service=service, staff=ada, starts_at=start, ends_at=start + timedelta(hours=1),
                capacity=8,
            ))  # fmt: skip
    days = {}
    for session in sessions:
        month = session.starts_at.astimezone(PARIS).strftime("%Y-%m")
        for exclude in ("", str(sessions[0].pk)):
            response = alpha.get("/widget/days/", {"service": service.pk, "month": month,
                                                   "tz": "Europe/Paris",
                                                   "exclude_occurrence": exclude})  # fmt: skip
            assert response.status_code == 200, response.content
            days.setdefault(exclude, set()).update(response.json()["days"])
    first, second = (s.starts_at.astimezone(PARIS).date().isoformat() for s in sessions)
    assert {first, second} <= days[""]
    assert second in days[str(sessions[0].pk)] and first not in days[str(sessions[0].pk)]


# ---------------------------------------------------------------------------
# The loader script and the page's own assets
# ---------------------------------------------------------------------------
def test_widget_js_is_served_from_the_platform_host_with_tenant_url_parts(db):
    from django.test import Client

    response = Client(HTTP_HOST="localhost:8123").get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    script = response.content.decode()
    assert 'var BASE = {scheme: "http", domain: "localhost",\n    port: ":8123"};' in script
    assert "public" in response["Cache-Control"]


def test_booking_page_assets_are_served_with_their_types(live_site, tenant_alpha):
    conn = http.client.HTTPConnection("127.0.0.1", live_site["port"], timeout=10)
    expected = {
        "/static/widgets/book.js": "text/javascript",
        "/static/widgets/common.js": "text/javascript",
        "/static/widgets/calendar.js": "text/javascript",
        "/static/widgets/manage.js": "text/javascript",
        "/static/widgets/book.css": "text/css",
        "/widget/theme.css": "text/css",
    }
    for path, content_type in expected.items():
        conn.request("GET", path, headers={"Host": f"alpha.localhost:{live_site['port']}"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, path
        assert response.getheader("Content-Type").startswith(content_type), path
    conn.close()


def test_booking_page_embeds_the_public_services_list(alpha, catalogue):
    embedded = _config(alpha.get("/book/"))["services"]
    assert embedded == alpha.get("/api/v1/services/").json()
    assert [s["name"] for s in embedded] == ["Consultation", "Haircut", "Massage"]


def test_widget_helpers_stay_out_of_the_public_api_schema(alpha, catalogue):
    response = alpha.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.content.decode()
    assert "/api/v1/bookings/" in schema and "/widget/" not in schema


def test_pages_answer_clients_that_send_no_accept_language_over_real_wsgi(
    live_site, alpha_catalogue, django_db_blocker
):
    """curl and bots send no Accept-Language; with no branding saved, the language is the
    model's default, a `WidgetLanguage` member: WSGI servers refuse a header value that is not
    exactly a str (wsgiref, as here, with an AssertionError: a 500). Django's test client does
    not check, so this goes through a real server."""
    with django_db_blocker.unblock(), tenant_context(alpha_catalogue["tenant"]):
        assert not Branding.objects.exists()
        booking = _held(alpha_catalogue["haircut"])  # committed; the module's teardown removes it
    conn = http.client.HTTPConnection("127.0.0.1", live_site["port"], timeout=10)
    paths = ["/book/", f"/manage/{booking.reference}/?token={booking.manage_token}"]
    for path in paths:
        conn.request("GET", path, headers={"Host": f"alpha.localhost:{live_site['port']}"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, path
        assert response.getheader("Content-Language") == "en", path
    conn.close()
