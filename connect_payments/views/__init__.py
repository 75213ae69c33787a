"""Pages of payments: payouts (Connect onboarding) and money (payments, promo codes) on a
business's host; public (the Stripe webhook) on the platform host."""
