"""The engine of local Stripe: store, lists, registry, state and dispatch, events, webhooks, HTTP.

Nothing here imports a resource package (payments, connect, billing); those register their
routes, renderers, local helpers and hooks in `stripe_local.app.registry`.
"""
