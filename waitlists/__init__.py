"""Waitlists of full slots and class sessions: a freed place is offered to the first fitting
person, race-safely, and booked (and paid) on acceptance (docs/waitlists.md). Beside memberships,
above connect_payments: docs/decisions/0013-memberships-and-waitlists-layer.md."""
