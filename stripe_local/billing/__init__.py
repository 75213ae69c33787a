"""Billing resources: products and prices, coupons, promotion codes, invoices (and previews, hosted
pages), invoice items, subscriptions (updates, prorations, resume), test clocks and the customer
portal.

Renewals, trial ends and payment retries happen only when a test clock advances (customers
created with `test_clock`); see docs/local-stripe.md for the dunning schedule.
"""
