"""Messages to customers about their bookings (emails today, SMS later), sent on scheduling's
booking events; scheduling never imports this app."""
