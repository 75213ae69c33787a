"""The beat sweep that hands Celery what the outbox holds and the broker did not take."""

from celery import shared_task

from .services import outbox_sweep

SWEEP_TASK = "outbox.tasks.sweep_outbox"


@shared_task(name=SWEEP_TASK)
def sweep_outbox() -> int:
    return outbox_sweep()
