"""Forms of the back-office pages: bookings and catalogue."""
