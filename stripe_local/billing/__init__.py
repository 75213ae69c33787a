"""Billing resources: products and prices, coupons, promotion codes, invoices, invoice items,
subscriptions and test clocks.

Renewals, trial ends and payment retries happen only when a test clock advances (customers
created with `test_clock`); see docs/local-stripe.md for the dunning schedule.
"""
