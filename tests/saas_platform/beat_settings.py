"""Settings of the worker and the two `celery beat` processes of test_two_beats.py: the worker
settings (the test database, SMTP mail to the test's sink) with one beat job, the reminders
sweep, on a period of BEAT_TEST_PERIOD seconds, published to the test's own queue."""

import os

from tests.worker_settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "send-reminders": {
        "task": "scheduling.tasks.send_due_reminders_in_every_tenant",
        "schedule": float(os.environ.get("BEAT_TEST_PERIOD", "3")),
    },
}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BEAT_TEST_QUEUE", "celery")
