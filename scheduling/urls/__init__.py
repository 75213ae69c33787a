"""URLconfs of the back-office pages (included by saas_platform/urls/tenant.py)."""
