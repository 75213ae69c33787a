"""Reads of memberships, one module per sub-domain (credits.py, passes.py)."""
