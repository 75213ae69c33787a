"""Several apps handle one Stripe event type (a PaymentIntent is a booking's or a pass's):
common.stripe_events runs each registered handler and reports the event applied when one did."""

from common import stripe_events
from common.stripe_events import ReceivedEvent, handler_for


def event(kind: str = "test.creneau.shared") -> ReceivedEvent:
    return ReceivedEvent(event_id="evt_1", type=kind, account_id="", tenant_schema="",
                         payload={"data": {"object": {}}})  # fmt: skip


def test_every_handler_of_a_type_runs_and_any_applying_counts(monkeypatch):
    monkeypatch.setattr(stripe_events, "_handlers", {})
    seen = []

    def bookings(received):
        seen.append("bookings")
        return False

    def passes(received):
        seen.append("passes")
        return True

    stripe_events.register({"test.creneau.shared"}, bookings)
    stripe_events.register({"test.creneau.shared"}, passes)
    stripe_events.register({"test.creneau.shared"}, passes)  # twice: still once
    assert handler_for("test.creneau.shared")(event()) is True
    assert seen == ["bookings", "passes"]
    assert handler_for("test.creneau.unknown") is None


def test_both_payment_intent_handlers_are_registered():
    from connect_payments.webhooks.handlers import payment_intent_event
    from memberships.webhooks.passes import pass_payment_intent_event

    handlers = stripe_events._handlers["payment_intent.succeeded"]
    assert payment_intent_event in handlers and pass_payment_intent_event in handlers
