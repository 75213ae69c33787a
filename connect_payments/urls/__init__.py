"""URLconfs of payments: `tenant` (a business's host) and `public` (the platform host)."""
