"""Rate limits of the public API and the widget's helpers (scheduling/throttling.py), over HTTP.

Counters go to the test settings' cache: Redis when REDIS_URL is set (as `make test` does), so
these run against real Redis and PostgreSQL. The test settings lift every limit
(saas_platform/settings/test.py); each test here sets small rates through pytest-django's
`settings` fixture. That works because DRF reloads `api_settings` on `setting_changed` and
`PublicApiThrottle` reads its rates from `api_settings` on each request (DRF's own class keeps the
dict it saw at import). The throttle counters are deleted before and after each test, so none
reaches another test or module.
"""

import itertools
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import tenant_context

from saas_platform.settings.base import throttle_rate
from scheduling.api.public import PublicApiView
from scheduling.api.throttling import THROTTLED_MESSAGE, PublicApiThrottle
from scheduling.models import Booking, BookingStatus, Customer
from tests.factories import host_of

from .conftest import build_catalogue, paris

ALICE = "203.0.113.7"
BOB = "198.51.100.9"
PROXY = "10.0.0.2"
THROTTLED_FR = "Trop de demandes depuis votre connexion. Patientez un peu, puis réessayez."
NEW_YORK = ZoneInfo("America/New_York")
ELEVENTH = paris(2030, 6, 11, 9)  # after the times next_start() gives


REDIS_CACHE = "redis" in django_settings.CACHES["default"]["BACKEND"]


def redis_of_the_cache() -> redis.Redis:
    return redis.Redis.from_url(django_settings.CACHES["default"]["LOCATION"])


def clear_throttle_counters() -> None:
    """Only the counters: `make test` may share its Redis database with `make run`'s cache and
    task queue, which a FLUSHDB (cache.clear()) would empty as well."""
    if not REDIS_CACHE:
        cache.clear()  # the process's own memory
        return
    client = redis_of_the_cache()
    keys = list(client.scan_iter(match="*:throttle_*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def no_counters_before_or_after():
    clear_throttle_counters()
    yield
    clear_throttle_counters()


@pytest.fixture
def rates(settings):
    """Small limits (hold 3/hour, token 4/hour, browse 5/minute, no proxy); call to change."""

    def set_rates(*, hold="3/hour", token="4/hour", browse="5/minute", proxies=0) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"hold": hold, "token": token, "browse": browse},
            "NUM_PROXIES": proxies,
        }

    set_rates()
    return set_rates


def pay_at_venue(built: dict) -> dict:
    """Alpha and beta have no Stripe account: a service paid online could not be held."""
    built["service"].payment_mode = "pay_at_venue"
    built["service"].save(update_fields=["payment_mode"])
    return built


@pytest.fixture
def catalogue(alpha_schema):
    return pay_at_venue(build_catalogue())


@pytest.fixture
def beta_catalogue(tenant_beta):
    with tenant_context(tenant_beta):
        return pay_at_venue(build_catalogue())


def client(tenant, address: str) -> Client:
    """A client on the tenant's host whose requests come from `address` (REMOTE_ADDR)."""
    return Client(HTTP_HOST=host_of(tenant), REMOTE_ADDR=address)


_starts = itertools.count()


def next_start(zone=None) -> datetime:
    """A different free time of Ada for each hold: 09:00, 11:00, 13:00 and 15:00 (an hour's
    service and its 15-minute buffer) from Tuesday 4 to Saturday 8 June 2030."""
    n = next(_starts) % 20
    start = paris(2030, 6, 4 + n // 4, 9 + 2 * (n % 4))
    return start.replace(tzinfo=zone) if zone else start


def post_json(api: Client, url: str, body: dict, **extra):
    return api.post(url, json.dumps(body), content_type="application/json", **extra)


def hold(api: Client, built: dict, *, email: str = "chloe@example.test", start=None, **extra):
    body = {
        "service": built["service"].pk,
        "staff": built["ada"].pk,
        "start": (start or next_start()).isoformat(),
        "customer": {"name": "Chloé Client", "email": email, "phone": ""},
    }
    return post_json(api, "/api/v1/bookings/", body, **extra)


def use_up_holds(api: Client, built: dict, count: int = 3) -> list[dict]:
    held = []
    for n in range(count):
        response = hold(api, built, email=f"customer{n}@example.test")
        assert response.status_code == 201, response.json()
        held.append(response.json())
    return held


def assert_throttled(response, *, longest: int, message: str = THROTTLED_MESSAGE) -> int:
    """A 429 in the API's error shape with a Retry-After of at most `longest` seconds."""
    assert response.status_code == 429, response.content
    assert response.json() == {"error": {"code": "throttled", "message": message}}
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= longest
    return retry_after


def availability(api: Client, built: dict, **extra):
    return api.get(
        "/api/v1/availability/",
        {"service": built["service"].pk, "start": "2030-06-04", "end": "2030-06-04"},
        **extra,
    )


def rows(tenant) -> tuple[int, int]:
    with tenant_context(tenant):
        return Booking.objects.count(), Customer.objects.count()


# ---------------------------------------------------------------------------
# Holds
# ---------------------------------------------------------------------------
def test_the_hold_after_the_limit_is_429_with_retry_after_and_writes_nothing(
    rates, catalogue, tenant_alpha, caplog
):
    alice = client(tenant_alpha, ALICE)
    use_up_holds(alice, catalogue)
    before = rows(tenant_alpha)
    start = next_start()

    with caplog.at_level("WARNING", logger="scheduling.api.throttling"):
        refused = hold(alice, catalogue, email="fourth@example.test", start=start)

    # The operator's log says which business, which limit and which address.
    [record] = [r for r in caplog.records if r.getMessage() == "api.throttled"]
    assert (record.scope, record.schema) == ("hold", tenant_alpha.schema_name)
    assert ALICE in record.client

    # The oldest of the three holds leaves the hour's window in just under an hour.
    assert assert_throttled(refused, longest=3600) > 3500
    assert rows(tenant_alpha) == before
    with tenant_context(tenant_alpha):
        assert not Customer.objects.filter(email="fourth@example.test").exists()
        assert not Booking.objects.filter(starts_at=start).exists()


def test_another_address_is_still_served(rates, catalogue, tenant_alpha):
    alice, bob = client(tenant_alpha, ALICE), client(tenant_alpha, BOB)
    use_up_holds(alice, catalogue)

    assert hold(bob, catalogue, email="bob@example.test").status_code == 201
    assert_throttled(hold(alice, catalogue), longest=3600)


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(rates, catalogue, tenant_alpha):
    alice = client(tenant_alpha, ALICE)
    use_up_holds(alice, catalogue)

    # NUM_PROXIES=0 (the default): anyone can write this header, so it changes nothing.
    spoofed = hold(alice, catalogue, HTTP_X_FORWARDED_FOR=BOB)

    assert_throttled(spoofed, longest=3600)


def test_behind_one_proxy_the_forwarded_client_address_counts(rates, catalogue, tenant_alpha):
    rates(proxies=1)
    proxy = client(tenant_alpha, PROXY)  # every request reaches the app from the proxy
    for n in range(3):
        response = hold(proxy, catalogue, email=f"a{n}@example.test", HTTP_X_FORWARDED_FOR=ALICE)
        assert response.status_code == 201, response.json()

    # Alice is refused even when she prepends an address of her own: the proxy appends the
    # address it saw, and that last one is the one read.
    as_alice = hold(proxy, catalogue, HTTP_X_FORWARDED_FOR=ALICE)
    spoofing = hold(proxy, catalogue, HTTP_X_FORWARDED_FOR=f"192.0.2.50, {ALICE}")
    as_bob = hold(proxy, catalogue, email="bob@example.test", HTTP_X_FORWARDED_FOR=BOB)

    assert_throttled(as_alice, longest=3600)
    assert_throttled(spoofing, longest=3600)
    assert as_bob.status_code == 201, as_bob.json()


def test_another_business_is_still_served_from_the_same_address(
    rates, catalogue, beta_catalogue, tenant_alpha, tenant_beta
):
    alice_at_alpha, alice_at_beta = client(tenant_alpha, ALICE), client(tenant_beta, ALICE)
    use_up_holds(alice_at_alpha, catalogue)

    at_beta = hold(alice_at_beta, beta_catalogue, start=next_start(NEW_YORK))

    assert at_beta.status_code == 201, at_beta.json()
    assert_throttled(hold(alice_at_alpha, catalogue), longest=3600)
    with tenant_context(tenant_beta):
        assert Booking.objects.filter(reference=at_beta.json()["reference"]).exists()


def test_counters_are_stored_per_business_in_redis(
    rates, catalogue, beta_catalogue, tenant_alpha, tenant_beta
):
    if not REDIS_CACHE:  # `make test` always finds Redis; a run without it must say so
        pytest.fail("REDIS_URL is not set: the test settings' cache is not Redis")
    hold(client(tenant_alpha, ALICE), catalogue)
    hold(client(tenant_beta, ALICE), beta_catalogue, start=next_start(NEW_YORK))

    keys = redis_of_the_cache().keys("*:throttle_*")

    # django_tenants' KEY_FUNCTION prefixes the schema; the throttle names it again in its own
    # key, so the counters stay apart even with a cache configured without that function.
    assert sorted(key.decode() for key in keys) == [
        f"t_alpha::1:throttle_hold_t_alpha:{ALICE}",
        f"t_beta::1:throttle_hold_t_beta:{ALICE}",
    ]


# ---------------------------------------------------------------------------
# Manage token
# ---------------------------------------------------------------------------
def test_endpoints_reached_by_token_share_one_budget_that_wrong_tokens_use_up(
    rates, catalogue, tenant_alpha
):
    alice = client(tenant_alpha, ALICE)
    start = next_start()
    booking = hold(alice, catalogue, start=start).json()
    url, token = f"/api/v1/bookings/{booking['reference']}/", booking["manage_token"]

    # Four requests (token 4/hour): a lookup, two guesses, the widget's policy helper.
    assert alice.get(url, {"token": token}).status_code == 200
    assert post_json(alice, f"{url}cancel/", {"token": "guess-1"}).status_code == 404
    assert post_json(alice, f"{url}reschedule/", {"token": "guess-2"}).status_code == 404
    assert alice.get(f"/widget/bookings/{booking['reference']}/", {"token": token}).status_code == (
        200
    )

    # Now even the right token is refused, on every endpoint that takes one.
    cancel = post_json(alice, f"{url}cancel/", {"token": token, "reason": "Ill"})
    reschedule = post_json(
        alice, f"{url}reschedule/", {"token": token, "start": next_start().isoformat()}
    )
    refused = [
        cancel,
        reschedule,
        alice.get(url, {"token": token}),
        alice.get(f"{url}calendar.ics", {"token": token}),
        post_json(alice, f"{url}payment/", {"token": token}),
        post_json(alice, f"/widget/bookings/{booking['reference']}/confirm/", {"token": token}),
        alice.get(f"/widget/bookings/{booking['reference']}/", {"token": token}),
        alice.get(f"/api/v1/feeds/staff/{catalogue['ada'].ics_token}.ics"),
    ]
    for response in refused:
        assert_throttled(response, longest=3600)
    with tenant_context(tenant_alpha):
        unchanged = Booking.objects.get(reference=booking["reference"])
        assert unchanged.status == BookingStatus.HELD
        assert unchanged.starts_at == start
        assert not unchanged.events.filter(reason="Ill").exists()
    # Someone else still manages a booking from another address.
    assert client(tenant_alpha, BOB).get(url, {"token": token}).status_code == 200


# ---------------------------------------------------------------------------
# Browsing: services, availability, the widget's days
# ---------------------------------------------------------------------------
def test_availability_is_limited_at_its_own_rate(rates, catalogue, tenant_alpha):
    alice = client(tenant_alpha, ALICE)
    use_up_holds(alice, catalogue)
    assert_throttled(hold(alice, catalogue), longest=3600)

    # No hold left, yet browsing has its own five a minute (services, availability, days).
    assert alice.get("/api/v1/services/").status_code == 200
    for _ in range(3):
        assert availability(alice, catalogue).status_code == 200
    days = alice.get("/widget/days/", {"service": catalogue["service"].pk, "month": "2030-06"})
    assert days.status_code == 200

    assert_throttled(availability(alice, catalogue), longest=60)
    assert_throttled(alice.get("/widget/days/", {"service": 1, "month": "2030-06"}), longest=60)
    assert availability(client(tenant_alpha, BOB), catalogue).status_code == 200


def test_an_ipv6_client_counts_as_its_slash_64(rates, catalogue, tenant_alpha):
    rates(browse="2/minute")
    same_64 = ["2001:db8:1:2::1", "2001:db8:1:2::abcd", "2001:db8:1:2:ffff::9"]

    answers = [availability(client(tenant_alpha, address), catalogue) for address in same_64]
    next_64 = availability(client(tenant_alpha, "2001:db8:1:3::1"), catalogue)

    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert_throttled(answers[2], longest=60)
    assert next_64.status_code == 200


def test_a_lowered_rate_still_answers_with_retry_after(rates, catalogue, tenant_alpha):
    alice = client(tenant_alpha, ALICE)
    for _ in range(5):
        assert availability(alice, catalogue).status_code == 200
    rates(browse="2/minute")  # five requests in the window, two allowed

    # DRF's own wait() gives nothing here (no Retry-After); ours: when the third-newest of the
    # five requests (and so enough of them) has left the minute.
    assert_throttled(availability(alice, catalogue), longest=60)


def test_the_refusal_is_in_french_when_the_request_asks_for_french(rates, catalogue, tenant_alpha):
    alice = client(tenant_alpha, ALICE)
    use_up_holds(alice, catalogue)

    refused = hold(alice, catalogue, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    assert_throttled(refused, longest=3600, message=THROTTLED_FR)
    assert refused["Content-Language"] == "fr"


# ---------------------------------------------------------------------------
# The deployed rates, and every public view having one
# ---------------------------------------------------------------------------
def test_two_customers_behind_one_address_are_never_refused_at_the_deployed_rates(
    settings, catalogue, tenant_alpha
):
    """What the widget sends for two whole bookings from one address (a family, an office),
    each with the payment's confirmation poll at its longest (41 lookups, book.js), at the
    rates this deployment runs with (API_THROTTLE_RATES: the defaults unless overridden)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": settings.API_THROTTLE_RATES,
    }
    shared = client(tenant_alpha, ALICE)
    service = catalogue["service"].pk
    answers = []
    for customer in range(2):
        answers.append(shared.get("/book/"))  # renders the services list in the page
        answers += [
            shared.get("/widget/days/", {"service": service, "month": f"2030-{month:02d}"})
            for month in (6, 7, 8, 9)
        ]
        answers += [availability(shared, catalogue) for _ in range(20)]  # days clicked
        # The first customer holds 11 June 09:00; the second finds it taken (409), picks again.
        answers.append(hold(shared, catalogue, email=f"c{customer}@example.test", start=ELEVENTH))
        booked = hold(shared, catalogue, email=f"c{customer}@example.test")
        answers.append(booked)
        reference, token = booked.json()["reference"], booked.json()["manage_token"]
        url = f"/api/v1/bookings/{reference}/"
        answers += [shared.get(url, {"token": token}) for _ in range(41)]
        answers += [
            post_json(shared, f"/widget/bookings/{reference}/confirm/", {"token": token}),
            shared.get(f"{url}calendar.ics", {"token": token}),
            shared.get(f"/widget/bookings/{reference}/", {"token": token}),  # manage page
            shared.get(url, {"token": token}),
            post_json(shared, f"{url}cancel/", {"token": token}),
        ]

    assert [answer.status_code for answer in answers].count(429) == 0
    assert answers[-1].status_code == 200  # the last cancel went through
    # And the limits were in force: the holds left (four were sent; refused ones count too)
    # run out at the configured number.
    hold_rate = settings.API_THROTTLE_RATES["hold"]
    if hold_rate is not None:
        left = int(hold_rate.split("/")[0]) - 4
        assert [post_json(shared, "/api/v1/bookings/", {}).status_code for _ in range(left)] == (
            [400] * left
        )
        assert_throttled(post_json(shared, "/api/v1/bookings/", {}), longest=86400)


def _public_routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _public_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "view_class", None)
            if view_class and issubclass(view_class, PublicApiView):
                yield prefix + str(entry.pattern), entry.name, view_class


def test_every_public_view_is_throttled_in_the_scope_its_route_calls_for(settings):
    routes = list(_public_routes(get_resolver(settings.ROOT_URLCONF).url_patterns))

    assert len(routes) >= 11
    for route, name, view_class in routes:
        assert PublicApiThrottle in view_class.throttle_classes, route
        assert view_class.throttle_scope in settings.API_THROTTLE_RATES, route
        if name in ("booking_create", "customer_credit_booking"):  # each call holds a time
            expected = "hold"
        elif (
            "<str:reference>" in route
            or "<str:token>" in route
            or name in ("fee_status", "waitlist_card", "waitlist_card_complete")
        ):
            # fee_status: the fee's signed link token comes in the body (cards on file); the
            # waitlist card step: the waitlist entry's secret token comes in the body
            expected = "token"
        else:
            expected = "browse"
        assert view_class.throttle_scope == expected, route


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
def test_rates_come_from_the_environment_and_are_checked(monkeypatch):
    monkeypatch.delenv("API_THROTTLE_HOLD_RATE", raising=False)
    assert throttle_rate("API_THROTTLE_HOLD_RATE", "20/hour") == "20/hour"
    monkeypatch.setenv("API_THROTTLE_HOLD_RATE", "50/Minute")
    assert throttle_rate("API_THROTTLE_HOLD_RATE", "20/hour") == "50/minute"
    monkeypatch.setenv("API_THROTTLE_HOLD_RATE", "off")
    assert throttle_rate("API_THROTTLE_HOLD_RATE", "20/hour") is None
    for wrong in ("20 per hour", "0/hour", "20/fortnight", ""):
        monkeypatch.setenv("API_THROTTLE_HOLD_RATE", wrong)
        with pytest.raises(ImproperlyConfigured):
            throttle_rate("API_THROTTLE_HOLD_RATE", "20/hour")


# ---------------------------------------------------------------------------
# Concurrency (issue #17: DRF's read-change-write let 50 of 50 simultaneous holds through 20)
# ---------------------------------------------------------------------------
class HoldView:
    throttle_scope = "hold"


def simultaneous_checks(count: int, address: str) -> list[bool]:
    """`count` throttle checks released at the same instant from `count` threads, each with its
    own throttle and request as a web worker would have (counted on the public schema)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.test import RequestFactory

    start = Barrier(count)

    def check(_: int) -> bool:
        request = RequestFactory().post("/api/v1/bookings/", REMOTE_ADDR=address)
        start.wait()
        return PublicApiThrottle().allow_request(request, HoldView())

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(check, range(count)))


def test_fifty_simultaneous_holds_from_one_address_let_exactly_the_limit_through(rates):
    if not REDIS_CACHE:
        pytest.fail("REDIS_URL is not set: the test settings' cache is not Redis")
    rates(hold="20/hour")

    passed = simultaneous_checks(50, ALICE)

    assert passed.count(True) == 20
    # The burst left a right counter behind: the next ones are refused, another address is not.
    assert simultaneous_checks(5, ALICE) == [False] * 5
    assert simultaneous_checks(1, BOB) == [True]
    (key,) = redis_of_the_cache().keys(f"*:throttle_hold_public:{ALICE}")
    assert redis_of_the_cache().zcard(key) == 20


def test_three_bursts_of_thirty_never_pass_more_than_the_limit(rates):
    rates(hold="20/hour")
    passed = sum(simultaneous_checks(30, ALICE).count(True) for _ in range(3))
    assert passed == 20


def test_with_redis_unreachable_requests_pass_and_say_so_in_the_log(rates, settings, caplog):
    """Port 9 (discard) on loopback: nothing listens, so the connection is refused at once."""
    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"}
    }
    if not REDIS_CACHE:
        pytest.fail("REDIS_URL is not set: the test settings' cache is not Redis")
    rates(hold="1/hour")

    assert simultaneous_checks(3, ALICE) == [True] * 3
    assert [r.getMessage() for r in caplog.records].count("api.throttle_unavailable") == 3
