"""Memberships' Stripe event handlers, one module per sub-domain (passes.py), registered in
`MembershipsConfig.ready()` through `common.stripe_events`."""
