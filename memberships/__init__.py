"""Passes, packages and memberships a business sells to its customers, and the credit ledger they
book against (docs/memberships.md). Above connect_payments (it charges through Connect), below
widgets (which sells them): docs/decisions/0013-memberships-and-waitlists-layer.md."""
