"""Reads: availability (slots, sessions), the back office, the catalogue, integrations."""
