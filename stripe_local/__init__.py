"""Local Stripe: a stateful stand-in for the parts of the Stripe API that Creneau uses.

Standard library only; product code never imports it. See docs/local-stripe.md.
"""

from stripe_local.core import API_VERSION, PLATFORM_ACCOUNT_ID

__all__ = ["API_VERSION", "PLATFORM_ACCOUNT_ID"]
