"""Writes: bookings (holds and every transition), the catalogue, integrations."""
