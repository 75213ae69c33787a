"""Writes of payments, one module per sub-domain: accounts (Connect onboarding), promo_codes,
booking_payments (pay to book), refunds, cancellation, reconcile; history records what happened
to a payment. Webhook intake is `connect_payments.webhooks`.

Stripe calls never run inside a database transaction: each operation reserves its row locally
(with the idempotency key it will use), calls Stripe outside any transaction, then records the
result. A failed call leaves the reservation in place, to be retried with the same key, so a retry
never creates a second PaymentIntent or refund.

Handlers are idempotent and order-independent: they re-read the object from Stripe and move the
local state forward only (a payment recorded as paid is never "unpaid" by a late event).

Lock order (always this order): BookingPayment row → StaffMember row → Resource row →
Occurrence row → Booking rows (the scheduling order after the payment).
"""
