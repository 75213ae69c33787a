"""Celery options of the tasks that send messages or move money: a worker killed mid-task loses
nothing (see docs/decisions/0011-durable-tasks-and-one-beat.md).

`acks_late`: the broker message is acknowledged when the task has finished, not when a worker
took it, so a worker that dies mid-task leaves the message to be delivered again: at once when a
prefork child dies (`reject_on_worker_lost` requeues it), after the broker's visibility timeout
when the whole worker (or its machine) dies. The outbox lease (OUTBOX_LEASE_SECONDS) hands the
task again too. Either way the task runs twice at worst, so every task given these options must
be idempotent: a row lock and a "sent"/"done" state checked under it (notifications' log,
invitations' `sent_at`), or a Stripe idempotency key (refunds).
"""

from __future__ import annotations

from typing import Any

DURABLE_TASK: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}
