"""Every module that registers API routes, renderers, /_local helpers or hooks in
stripe_local.app.registry. Importing this module is what makes the engine serve them."""

from stripe_local import balance  # noqa: F401
from stripe_local.app import events  # noqa: F401
from stripe_local.billing import (  # noqa: F401
    coupons,
    invoice_items,
    invoice_pages,
    invoices,
    invoicing,
    portal,
    previews,
    products,
    promotion_codes,
    schedules,
    subscription_items,
    subscription_status,
    subscription_updates,
    subscriptions,
    tax_ids,
    test_clocks,
)
from stripe_local.connect import account_links, accounts, application_fees, login_links, transfers  # noqa: F401
from stripe_local.payments import (  # noqa: F401
    authentication,
    charges,
    customers,
    payment_intents,
    payment_methods,
    refunds,
    setup_intents,
)
