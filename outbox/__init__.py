"""The transactional outbox: after-commit work written down in the same transaction.

Public API: `outbox.services.outbox_enqueue` (write a task to run after this commit) and the beat
task `outbox.tasks.sweep_outbox` (hand again what the broker did not take or a killed worker did
not finish). See docs/decisions/0007-outbox.md.
"""
