"""Settings of the Celery worker processes that tests start (tests/processes.py): the test
settings, on the test database itself, sending mail over SMTP to the test's sink."""

import os

from saas_platform.settings.test import *  # noqa: F403
from saas_platform.settings.test import DATABASES

DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_TIMEOUT = 60
