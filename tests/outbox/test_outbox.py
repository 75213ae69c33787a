"""The outbox's bookkeeping: rows live and die with their transaction, the sweep hands only what
is due, two sweeps at once never hand one row twice (committed rows, real threads)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from outbox import services
from outbox.models import OutboxMessage
from outbox.services import MAX_DISPATCHES, outbox_backlog, outbox_due, outbox_enqueue
from tenants.tasks import send_invitation_email

TASK = send_invitation_email.name


def test_a_rolled_back_transaction_leaves_no_row_and_hands_nothing(db, monkeypatch):
    handed = []
    monkeypatch.setattr(services, "outbox_dispatch", handed.append)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        outbox_enqueue(TASK, args=[1, "x"])
        raise Abort
    assert not OutboxMessage.objects.exists()
    assert handed == []


def test_eager_task_marks_its_row_done(db, django_capture_on_commit_callbacks, monkeypatch):
    """No broker (development's eager mode): the task runs at commit and its row is done."""
    ran = []
    monkeypatch.setattr(send_invitation_email, "run", lambda *args: ran.append(args) or "sent")
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(TASK, args=[7, "https://example.test/accept"])
    message.refresh_from_db()
    assert ran == [(7, "https://example.test/accept")]
    assert message.dispatched_at is not None and message.done_at is not None
    assert message.schema_name == connection.schema_name


def test_due_rows_are_the_undispatched_after_the_grace_and_the_unfinished_after_the_lease(
    db, settings
):
    settings.OUTBOX_GRACE_SECONDS = 30
    settings.OUTBOX_LEASE_SECONDS = 600
    now = timezone.now()

    def row(**fields) -> OutboxMessage:
        return OutboxMessage.objects.create(schema_name="t_alpha", task_name=TASK, **fields)

    fresh = row(created_at=now - timedelta(seconds=5))
    refused = row(created_at=now - timedelta(seconds=60), last_error="OperationalError")
    running = row(created_at=now - timedelta(minutes=5), dispatched_at=now - timedelta(minutes=5))
    lost = row(created_at=now - timedelta(hours=1), dispatched_at=now - timedelta(minutes=20))
    done = row(created_at=now - timedelta(hours=1), dispatched_at=now - timedelta(hours=1),
               done_at=now - timedelta(hours=1))  # fmt: skip
    given_up = row(created_at=now - timedelta(hours=2), dispatch_attempts=MAX_DISPATCHES)
    assert set(outbox_due(now=now)) == {refused, lost}
    assert {fresh, running, done, given_up}.isdisjoint(outbox_due(now=now))
    assert outbox_backlog(now=now) == {"open": 5, "overdue": 2, "given_up": 1}


def test_two_sweeps_at_once_hand_each_row_once(committed_db, settings, monkeypatch):
    settings.OUTBOX_GRACE_SECONDS = 0
    rows = [
        OutboxMessage.objects.create(schema_name="t_alpha", task_name=TASK, args=[n, "x"])
        for n in range(40)
    ]
    handed: list[int] = []
    lock = threading.Lock()

    def dispatch(message: OutboxMessage) -> bool:
        with lock:
            handed.append(message.pk)
        OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=timezone.now())
        return True

    monkeypatch.setattr(services, "outbox_dispatch", dispatch)
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        try:
            services.outbox_sweep()
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        ours = {r.pk for r in rows}
        assert sorted(pk for pk in handed if pk in ours) == sorted(ours)  # each once
    finally:
        OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).delete()
