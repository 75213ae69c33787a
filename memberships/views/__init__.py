"""Memberships' back-office pages, one module per sub-domain (offers.py, credits.py)."""
