"""Stripe webhooks: the inbox (verify, store once, dispatch) and the handlers apps register.

`common.stripe_events` maps event types to the handlers apps registered; `inbox` stores every
verified event once and dispatches the stored events that have a handler (in a Celery task,
after commit); `handlers` are connect_payments' own, registered in its `ready()`.
"""
