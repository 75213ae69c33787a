"""What memberships adds to the back office's pages of the apps below it, through their ports:
pass purchases and membership invoices on the payments list (`payment_rows`), credits and
memberships on the customer page (`customer_page`). Called once from `MembershipsConfig.ready()`.
"""

from __future__ import annotations


def register_back_office() -> None:
    from . import payment_rows

    payment_rows.register()
