"""Waitlist errors whose message is safe to show to a customer or a team member."""


class WaitlistError(Exception):
    default_message = "This waitlist request cannot be made."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class WaitlistClosed(WaitlistError):
    default_message = "This business does not take waitlist requests at the moment."


class InvalidRequest(WaitlistError):
    default_message = "Please check what you asked to wait for."


class NoSeatFree(WaitlistError):
    default_message = "No place is free: raise the session's capacity or free a seat first."
