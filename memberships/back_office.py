"""What memberships adds to the back office's pages of the apps below it, through their ports:
pass purchases and membership invoices on the payments list (`payment_rows`), credits and
memberships on the customer page (`customer_page`). Called once from `MembershipsConfig.ready()`.
"""

from __future__ import annotations


def register_back_office() -> None:
    from scheduling import ports

    from . import payment_rows
    from .customer_page import credits_customer_section, memberships_customer_section

    payment_rows.register()
    ports.register_customer_section(credits_customer_section)
    ports.register_customer_section(memberships_customer_section)
