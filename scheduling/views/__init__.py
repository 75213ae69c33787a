"""Staff back-office pages: calendar and bookings, catalogue, integrations."""
