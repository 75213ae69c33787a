"""Development settings: `make run`."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-deploy")
PLATFORM_PORT = env("PLATFORM_PORT", default="8000")
ALLOWED_HOSTS = ["localhost", ".localhost", "127.0.0.1"]
# Emails go to the log at INFO (saas_platform/mail.py) unless EMAIL_BACKEND says otherwise.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="saas_platform.mail.LoggingConsoleEmailBackend")
