"""Writes of waitlists: joining and leaving the line (entries), freed places and their offers
(offers), the team's reordering and offers by hand (entries, offers)."""
