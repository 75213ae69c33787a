"""Settings shared by every environment; each environment module imports this and adjusts."""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
PLATFORM_DOMAIN = env("PLATFORM_DOMAIN", default="localhost")
# Port appended to tenant links built outside a request (emails, signup hand-off); empty in
# production where the platform answers on 443.
PLATFORM_PORT = env("PLATFORM_PORT", default="")
PLATFORM_SCHEME = env("PLATFORM_SCHEME", default="http")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}"])

# ---------------------------------------------------------------------------
# Applications: public schema (shared) and per-tenant schema
# ---------------------------------------------------------------------------
SHARED_APPS = [
    # First so that its `migrate` (which also migrates the template schema) wins.
    "saas_platform",
    "django_tenants",
    "django_prometheus",
    "tenants",
    # After-commit tasks of every tenant, in public: one sweep query for all of them.
    "outbox",
    "billing",
    # Also a tenant app: the connected-account map and webhook events live in public, booking
    # payments in each tenant's schema.
    "connect_payments",
    # Also a tenant app: the operator's platform activity lives in public, the dashboard's
    # customer aggregates in each tenant's schema.
    "insights",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "two_factor",
    "axes",
    "djstripe",
    "rest_framework",
    "drf_spectacular",
]
TENANT_APPS = [
    "scheduling",
    # No models of its own: emails and reminders about bookings (NotificationLog is scheduling's).
    "notifications",
    "connect_payments",
    # Passes, memberships and the credit ledger; waitlists of full slots and sessions.
    "memberships",
    "waitlists",
    "widgets",
    # The landing page (dashboard, setup checklist); its aggregate tables are per tenant.
    "insights",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "saas_platform.urls.public"
ROOT_URLCONF = "saas_platform.urls.tenant"
# New tenants are cloned from this migrated schema (see docs/decisions/0002-template-schema.md).
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
# connect_payments is shared and tenant: its router puts each of its tables in one kind of schema.
DATABASE_ROUTERS = [
    "connect_payments.routers.PaymentsSchemaRouter",
    "insights.routers.InsightsSchemaRouter",
    "django_tenants.routers.TenantSyncRouter",
]

MIDDLEWARE = [
    # /healthz on any host, before the host check and the tenant lookup (which needs the database).
    "saas_platform.health.HealthCheckMiddleware",
    # Request metrics (django-prometheus: this half early, its "after" half last) and the
    # request id of the log lines (saas_platform/structured_logs.py).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "saas_platform.structured_logs.RequestIdMiddleware",
    # /metrics on any host too, for Prometheus with METRICS_TOKEN only (saas_platform/metrics.py).
    "saas_platform.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.CreneauTenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.TenantSessionBindingMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Booking/manage pages: CSP frame-ancestors instead of DENY (also on the suspended page).
    "widgets.middleware.EmbeddableCustomerPagesMiddleware",
    "tenants.middleware.TenantAccessMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.tenant_context",
                "saas_platform.context_processors.back_office",
            ],
        },
    },
]

WSGI_APPLICATION = "saas_platform.wsgi.application"

# ---------------------------------------------------------------------------
# Database and cache
# ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/creneau"),
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# "transaction" when DATABASE_URL is PgBouncer in transaction pooling mode: every statement then
# carries the tenant's search_path (saas_platform/pooled_postgresql; decision 0012), and
# server-side cursors, which cannot outlive a transaction there, are off. django-tenants'
# TENANT_LIMIT_SET_CALLS does not apply to it (that backend sends no separate SET).
DATABASE_POOLING = env("DATABASE_POOLING", default="")
# Direct connections: django-tenants sends its `SET search_path` once per tenant switch instead
# of before every cursor (3-4 statements fewer a request). Correct because nothing else leaves
# a session search_path behind: the schema clone puts the previous one back and a failed one is
# rolled back, which django-tenants forgets (decision 0012; tests/scheduling/test_search_path.py).
TENANT_LIMIT_SET_CALLS = env.bool("TENANT_LIMIT_SET_CALLS", default=True)
if DATABASE_POOLING == "transaction":
    DATABASES["default"]["ENGINE"] = "saas_platform.pooled_postgresql"
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DATABASE_POOLING:
    raise ValueError("DATABASE_POOLING is empty (direct connections) or 'transaction'.")
# An unreachable server fails a request in seconds (503, saas_platform.unavailable), not after
# the operating system's TCP timeout.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }

# ---------------------------------------------------------------------------
# Authentication, sessions, second factor, lockout
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Host-only cookies: a login on zen.example.com is not a login on spa.example.com.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12

OTP_TOTP_ISSUER = "Creneau"
TWO_FACTOR_PATCH_ADMIN = False

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "tenants.lockout.username_of_attempt"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)

# Signed links
INVITATION_MAX_AGE_SECONDS = 60 * 60 * 24 * 7
LOGIN_HANDOFF_MAX_AGE_SECONDS = 120

# ---------------------------------------------------------------------------
# Internationalisation and time
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Static files and e-mail
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# The SMTP server of django.core.mail.backends.smtp.EmailBackend (docs/configuration.md).
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Creneau <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------
# Celery (tenant-aware through tenant-schemas-celery)
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Tasks that send messages or move money are acknowledged after they finish (outbox.durable). A
# message a dead worker never acknowledged is delivered again by Redis after the visibility
# timeout: longer than the longest countdown of a retried task (16 min for an email), else the
# broker would hand a waiting retry to a second worker; longer than the outbox lease
# (OUTBOX_LEASE_SECONDS, 20 min), so the outbox's own re-hand normally comes first. See
# docs/decisions/0011-durable-tasks-and-one-beat.md.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=1800)
}
# One message reserved per worker process at a time: a killed worker strands no others.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Waitlist offers have their own queue, so a freed place is offered without waiting behind the
# emails of the default queue (docs/decisions/0016-waitlist-places-and-offers.md). Every worker
# command names both queues (`-Q celery,offers`: scripts/dev.py, docker-compose.yml); a deployment
# may give `offers` workers of its own. Within it the offer emails are taken after the places
# still to open (Redis serves priority 0 first), so the next place is never queued behind them.
CELERY_TASK_ROUTES = {
    "waitlists.tasks.open_freed_place": {"queue": "offers"},
    "waitlists.tasks.open_places_for_new_hours": {"queue": "offers"},
    "waitlists.tasks.book_automatically": {"queue": "offers"},
    "waitlists.tasks.send_offer_email": {"queue": "offers", "priority": 6},
}
CELERY_BEAT_SCHEDULE: dict = {
    # Hands Celery what the outbox holds and the broker did not take (outbox/services.py).
    "sweep-outbox": {"task": "outbox.tasks.sweep_outbox", "schedule": 30.0},
    # /healthz's worker and beat marks (saas_platform/heartbeat.py); a heartbeat not run within
    # 20 s is dropped, so a worker back from an outage does not run a pile of them.
    "heartbeat": {
        "task": "saas_platform.tasks.heartbeat",
        "schedule": 20.0,
        "options": {"expires": 20.0},
    },
    "expire-holds": {"task": "scheduling.tasks.expire_holds_in_every_tenant", "schedule": 60.0},
    "send-reminders": {
        "task": "scheduling.tasks.send_due_reminders_in_every_tenant",
        "schedule": 900.0,
    },
    "retry-pending-refunds": {
        "task": "connect_payments.tasks.retry_pending_refunds_in_every_tenant",
        "schedule": 300.0,
    },
    "reconcile-payments": {
        "task": "connect_payments.tasks.reconcile_payments_in_every_tenant",
        "schedule": 900.0,
    },
    # Waitlist offers past their time pass to the next person in line (waitlists/tasks.py).
    "expire-waitlist-offers": {
        "task": "waitlists.tasks.expire_offers_in_every_tenant",
        "schedule": 60.0,
    },
    # Fees awaiting the customer's authentication get one reminder 48 h later (card_fees.py).
    "remind-fees": {
        "task": "connect_payments.tasks.remind_fees_awaiting_customer_in_every_tenant",
        "schedule": 3600.0,
    },
    # Credits past their date expire; customers are reminded 7 days before (memberships/tasks.py).
    "expire-credits": {
        "task": "memberships.tasks.expire_credits_in_every_tenant",
        "schedule": 900.0,
    },
    # Pass payments a missed webhook left pending, pass refunds Stripe did not answer.
    "reconcile-passes": {
        "task": "memberships.tasks.reconcile_passes_in_every_tenant",
        "schedule": 900.0,
    },
    # Platform subscriptions repaired from Stripe (billing/reconcile.py), nightly.
    "reconcile-billing": {"task": "billing.reconcile", "schedule": 86400.0},
    # The platform activity's delta rows folded into one row per tenant and day.
    "compact-platform-activity": {
        "task": "insights.tasks.compact_platform_activity",
        "schedule": 600.0,
    },
    # Members' subscriptions repaired from Stripe (memberships/services/memberships_reconcile.py).
    "reconcile-memberships": {
        "task": "memberships.membership_tasks.reconcile_memberships_in_every_tenant",
        "schedule": 86400.0,
    },
}

# Prometheus's bearer token for /metrics; empty: /metrics answers 404 (saas_platform/metrics.py).
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# /healthz is "degraded" when an outbox counter (saas_platform.health.BACKLOG_COUNTERS) exceeds it.
HEALTH_OUTBOX_BACKLOG_LIMIT = env.int("HEALTH_OUTBOX_BACKLOG_LIMIT", default=100)

# ---------------------------------------------------------------------------
# REST framework
# ---------------------------------------------------------------------------


def throttle_rate(variable: str, default: str) -> str | None:
    """A DRF rate ("20/hour": N per second, minute, hour or day) from the environment, checked
    at start-up; `off` lifts that limit."""
    rate = env(variable, default=default).strip().lower()
    if rate == "off":
        return None
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(
            f"{variable}={rate!r}: expected N/second, N/minute, N/hour, N/day or off."
        )
    return rate


# Rate limits of the anonymous customer API and the widget's helpers, per business and client
# address (scheduling/api/throttling.py, counted atomically in Redis; the choice of numbers:
# docs/configuration.md).
API_THROTTLE_RATES = {
    # POST /api/v1/bookings/: each call blocks a time for 10 minutes.
    "hold": throttle_rate("API_THROTTLE_HOLD_RATE", "20/hour"),
    # By manage token or feed token; the widget polls the booking ~40 times while a payment
    # is being confirmed.
    "token": throttle_rate("API_THROTTLE_TOKEN_RATE", "300/hour"),
    # Services, availability, the widget's days of a month.
    "browse": throttle_rate("API_THROTTLE_BROWSE_RATE", "300/minute"),
}
# Client address of a request: REMOTE_ADDR with 0, else the address the nearest of that many
# trusted proxies appended to X-Forwarded-For (1 behind one proxy; docs/deployment.md). The same
# proxies as AXES_PROXY_COUNT, hence its default.
API_PROXY_COUNT = env.int("API_PROXY_COUNT", default=AXES_IPWARE_PROXY_COUNT)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_PARSER_CLASSES": [
        "saas_platform.parsers.JSONParser",  # a too deeply nested body is a 400, not a 500
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Throttles are set on the views (scheduling.api.PublicApiView), not by default.
    "DEFAULT_THROTTLE_RATES": API_THROTTLE_RATES,
    "NUM_PROXIES": API_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Creneau API",
    "DESCRIPTION": "Booking and payments API of a Creneau business (served on its own host).",
    "VERSION": "1.0.0",
}

# ---------------------------------------------------------------------------
# Stripe (dj-stripe); local Stripe is used when no real keys are configured
# ---------------------------------------------------------------------------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_LIVE_MODE = False
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
# Booking payments (connect_payments): every call goes through connect_payments.gateway.
# The API version is pinned here, not taken from the SDK's default, so an SDK upgrade never
# silently changes object shapes.
STRIPE_API_VERSION = env("STRIPE_API_VERSION", default="2026-08-26.dahlia")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Seconds to connect to Stripe and to wait for its answer, per attempt (the SDK's default is 80 s:
# a Stripe that accepts connections and never answers would hold a web worker for minutes).
STRIPE_CONNECT_TIMEOUT = env.float("STRIPE_CONNECT_TIMEOUT", default=3.0)
STRIPE_READ_TIMEOUT = env.float("STRIPE_READ_TIMEOUT", default=10.0)
# Signing secrets of the platform endpoint and of the Connect endpoint (both POST to
# /stripe/webhook/ on the platform host); either one verifies an event.
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_CONNECT_WEBHOOK_SECRET = env("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
# Stripe.js; empty: the local server's /v3/ when STRIPE_API_BASE is set, else
# https://js.stripe.com/v3/ (connect_payments.gateway.stripe_js_url).
STRIPE_JS_URL = env("STRIPE_JS_URL", default="")
# Platform billing: a new business's 14-day trial is created in Stripe after signup commits
# (billing.services.on_tenant_created). Off in the test settings, where most tests sign
# businesses up without a Stripe server; billing's tests turn it on.
BILLING_TRIAL_AT_SIGNUP = env.bool("BILLING_TRIAL_AT_SIGNUP", default=True)

# ---------------------------------------------------------------------------
# Security headers common to every environment
# ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "django.views.csrf.csrf_failure"

# ---------------------------------------------------------------------------
# Logging: structured records to stderr
# ---------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object a line with the tenant schema and the request (or task) id
# (saas_platform/structured_logs.py); the default stays readable for `make run`.
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "saas_platform.structured_logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
