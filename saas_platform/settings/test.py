"""Test settings: production's security settings stay on, only what tests cannot use changes."""

from .base import *  # noqa: F403
from .base import API_THROTTLE_RATES, DATABASES, REST_FRAMEWORK, env

SECRET_KEY = "test-only-key-" + "x" * 40
DEBUG = False
PLATFORM_DOMAIN = "localhost"
PLATFORM_PORT = ""
ALLOWED_HOSTS = ["localhost", ".localhost", "testserver", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Parallel runs (several checkouts on one machine) pick their own test database name.
DATABASES["default"]["TEST"] = {"NAME": env("CRENEAU_TEST_DB", default="test_creneau")}
AXES_FAILURE_LIMIT = 5
# dj-stripe's migration history costs ~40 s of state rendering (hundreds of RemoveField). The test
# database uses one initial migration generated from the pinned dj-stripe's models instead: same
# tables, a second to apply. Regenerate after upgrading dj-stripe:
#   DJANGO_SETTINGS_MODULE=saas_platform.settings.test manage.py makemigrations djstripe
MIGRATION_MODULES = {"djstripe": "saas_platform.testing_migrations.djstripe"}
# Tasks run eagerly unless a test starts a real worker (tests/saas_platform/test_celery.py).
CELERY_TASK_ALWAYS_EAGER = True
# No rate limits: most tests call the public API from 127.0.0.1 of one business (a concurrency test
# sends 20 holds at once, the browser tests book again and again), and with no rate DRF's
# throttle does not even read the cache, so no counter is left behind for another test. The
# throttle tests set small rates themselves (tests/scheduling/test_throttling.py); the deployed
# rates stay readable as API_THROTTLE_RATES.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {scope: None for scope in API_THROTTLE_RATES},
}
# Signups in tests do not call Stripe for the platform trial unless a test turns it on.
BILLING_TRIAL_AT_SIGNUP = False
