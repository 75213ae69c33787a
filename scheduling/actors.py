"""Who causes a booking's transition: a team member (user id), the customer, or the system."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    label: str
    user_id: int | None = None


SYSTEM = Actor("system")
CUSTOMER = Actor("customer")
