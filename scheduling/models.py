"""Services, staff, resources, availability and bookings (tenant schema); see issue 4."""
