"""Payments resources: customers, payment methods, payment and setup intents, charges,
refunds and balances, with Stripe's state machines and test-card behaviour (one module each)."""
