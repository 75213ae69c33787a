"""Writes of memberships, one module per sub-domain (credits.py: the ledger; passes.py)."""
