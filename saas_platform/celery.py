"""Celery application; tenant-schemas-celery carries the sender's schema in every message."""

import os

from tenant_schemas_celery.app import CeleryApp as TenantAwareCeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings.local")

app = TenantAwareCeleryApp("creneau")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
