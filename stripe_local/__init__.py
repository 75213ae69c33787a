"""Local Stripe: a stateful stand-in for the parts of the Stripe API that Creneau uses.

Standard library only; product code never imports it. See docs/local-stripe.md.

Layout, lowest first: core.py, shapes.py, cards.py (no state) < app/ (store, lists, registry,
state and dispatch, events, webhooks, HTTP server) < payments/, connect/, billing/ (resources,
registering themselves in app.registry) < resources.py, server.py, __main__.py (start-up).
"""
