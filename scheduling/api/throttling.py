"""Rate limits of the anonymous customer endpoints (`PublicApiView`): DRF's `ScopedRateThrottle`.

Each view names a scope (`throttle_scope`); the rates come from `REST_FRAMEWORK
["DEFAULT_THROTTLE_RATES"]` (environment variables, see docs/configuration.md):

- `hold`: creating a hold (POST /api/v1/bookings/); each one blocks a time for 10 minutes.
- `token`: everything reached with a booking's manage token or a staff feed token (lookups,
  cancel, reschedule, payment retry, calendar files, the widget's confirm and policy helpers).
- `browse`: services, availability and the widget's days of a month.

Counters live in the default cache's Redis, one per scope, business and client address, so the
customers of one business never use up another's budget. A refusal is a 429 with Retry-After,
answered by `scheduling.api.public.api_exception_handler` before the view runs (nothing is
written).

The count is atomic: one Lua script per request drops the requests older than the window from a
sorted set, counts the rest and adds this one only when there is room, all inside Redis, with
Redis's own clock (so several web machines agree). DRF's own throttle reads its history from the
cache, changes it in Python and writes it back, so simultaneous requests each saw room and the
last write won: 50 simultaneous holds from one address all passed a limit of 20. Without Redis
(a local run without `REDIS_URL`: one process, its own memory) DRF's own counting is kept; with
Redis configured but unreachable, requests pass and each logs `api.throttle_unavailable`.
"""

import ipaddress
import logging
import math
import uuid
from functools import cache

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop
from rest_framework import exceptions as drf_exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from tenants.context import active_schema

logger = logging.getLogger(__name__)

THROTTLED_MESSAGE = gettext_noop(
    "Too many requests from your connection. Please wait a while and try again."
)


class RateLimited(drf_exceptions.Throttled):
    """DRF's 429 (code `throttled`) with one fixed, translatable text.

    DRF's own `Throttled(wait)` appends "Expected available in N seconds." to its text, which no
    translation table can hold; the wait goes in the Retry-After header instead.
    """

    def __init__(self, wait: float | None) -> None:
        super().__init__(detail=THROTTLED_MESSAGE)
        self.wait = math.ceil(wait) if wait is not None else None


# KEYS[1]: the counter; ARGV: window (s), limit, a unique member. Returns {allowed, wait} with
# the wait as a string (Redis truncates numbers returned by a script to integers).
SLIDING_WINDOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return {1, '0'}
end
-- Room comes back when the newest of the oldest (count - limit + 1) requests leaves the window.
local entry = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return {0, tostring(window - (now - tonumber(entry[2])))}
"""


@cache
def _counter_script(location: str) -> redis.commands.core.Script:
    """One connection pool and one registered script per process (EVALSHA, EVAL on a miss)."""
    return redis.Redis.from_url(location).register_script(SLIDING_WINDOW)


def _redis_location() -> str | None:
    """The default cache's Redis URL, or None when the cache is not Redis."""
    if not isinstance(caches["default"], RedisCache):
        return None
    location = settings.CACHES["default"]["LOCATION"]
    return location[0] if isinstance(location, list | tuple) else location


class PublicApiThrottle(ScopedRateThrottle):
    """`ScopedRateThrottle` counting per business (tenant schema) and per client address."""

    # Set by allow_request() from parse_rate() (both None without a rate); drf-stubs omits them.
    num_requests: int | None
    duration: int | None
    # Seconds until a request is allowed again, as the Redis count answered (None: not counted
    # in Redis).
    redis_wait: float | None = None

    def get_rate(self) -> str | None:
        # DRF binds `SimpleRateThrottle.THROTTLE_RATES` to the rates dict once, at import, so a
        # settings change (override_settings in tests) would not reach it; `api_settings` is
        # reloaded on `setting_changed`, so the rates are read from it on each request.
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope is None or self.scope not in rates:
            raise ImproperlyConfigured(f"No throttle rate is set for the scope {self.scope!r}.")
        # drf-stubs types the rates as numbers; DRF's are strings such as "10/min".
        return rates[self.scope]  # type: ignore[return-value]

    def allow_request(self, request, view) -> bool:
        location = _redis_location()
        if location is None:
            return super().allow_request(request, view)
        # ScopedRateThrottle's steps up to the counting, then one atomic count in Redis.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        limit, window = self.num_requests, self.duration = self.parse_rate(self.rate)
        if limit is None or window is None:
            return True
        self.key = self.get_cache_key(request, view)
        try:
            allowed, wait = _counter_script(location)(
                keys=[caches["default"].make_key(self.key)], args=[window, limit, uuid.uuid4().hex]
            )
        except redis.RedisError:
            # Redis away: customers keep booking unthrottled rather than all being refused; the
            # outage is logged once per request (and /healthz reports Redis).
            logger.exception("api.throttle_unavailable", extra={"scope": self.scope})
            return True
        self.redis_wait = float(wait)
        return True if allowed else self.throttle_failure()

    def get_ident(self, request) -> str:
        """DRF's client address (REMOTE_ADDR, or X-Forwarded-For per `NUM_PROXIES`), normalised.

        An IPv6 client counts as its /64: one subscriber usually holds a whole /64 and could
        otherwise take a fresh address for each request.
        """
        ident = super().get_ident(request)
        try:
            address = ipaddress.ip_address(ident)
        except ValueError:
            # Not an address: X-Forwarded-For held something else (more proxies configured than
            # there are). The connection's own address is then the only one to trust.
            return request.META.get("REMOTE_ADDR", "")
        if address.version == 6:
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        return str(address)

    def get_cache_key(self, request, view) -> str:
        # The tenant's schema is part of the key itself, whatever the cache's KEY_FUNCTION does
        # (django_tenants' make_key prefixes it too; tests/scheduling/test_throttling.py checks
        # both).
        return self.cache_format % {
            "scope": self.scope,
            "ident": f"{active_schema()}:{self.get_ident(request)}",
        }

    def throttle_failure(self) -> bool:
        # One warning per refusal: "customers cannot book" at 3 a.m. is then one grep away
        # (a script hammering one business, or API_PROXY_COUNT left at 0 behind a proxy).
        logger.warning(
            "api.throttled",
            extra={"scope": self.scope, "schema": active_schema(), "client": self.key},
        )
        return super().throttle_failure()

    def wait(self) -> float | None:
        if self.redis_wait is not None:
            return max(self.redis_wait, 1.0)  # Retry-After is at least one second
        wait = super().wait()
        if wait is None and self.history and self.num_requests and self.duration is not None:
            # DRF gives no wait when the window already holds more requests than the rate allows
            # (the rate was lowered): the time until enough of them have aged out.
            wait = self.duration - (self.now - self.history[self.num_requests - 1])
        return wait
