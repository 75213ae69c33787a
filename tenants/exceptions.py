"""Domain errors of tenancy and teams; views map them to form errors or HTTP responses."""


class TenancyError(Exception):
    """Base class: the message is safe to show to the person who caused it."""


class SlugUnavailable(TenancyError):
    pass


class EmailAlreadyRegistered(TenancyError):
    pass


class InvitationInvalid(TenancyError):
    pass


class RoleChangeRefused(TenancyError):
    pass


class ReasonRequired(TenancyError):
    pass
