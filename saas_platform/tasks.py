"""Platform jobs: the heartbeat that tells `/healthz` a worker is consuming tasks."""

from celery import shared_task

from .heartbeat import HEARTBEAT_TASK, WORKER_KEY, mark_alive


@shared_task(name=HEARTBEAT_TASK, ignore_result=True)
def heartbeat() -> None:
    mark_alive(WORKER_KEY)
