"""Billing's pages: the owner's "Plan and billing" page (backoffice); console views come later."""
