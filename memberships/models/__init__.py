"""Memberships' tables (tenant schema): the credit ledger (credits.py) and passes (passes.py).

Other modules (memberships.py for recurring memberships) sit beside these and are re-exported
here so `from memberships.models import X` keeps working.
"""

from .credits import CreditEntry, CreditEntryKind, CreditGrant, CreditSourceKind
from .memberships import (
    LIVE_MEMBERSHIP_STATUSES,
    BillingInterval,
    Membership,
    MembershipOffer,
    MembershipOfferStatus,
    MembershipPeriod,
    MembershipStatus,
)
from .passes import (
    PassOffer,
    PassOfferStatus,
    PassPurchase,
    PassPurchaseStatus,
    PassRefund,
    PassRefundMode,
    PassRefundStatus,
    PassSettings,
    ValidityStart,
)

__all__ = [
    "LIVE_MEMBERSHIP_STATUSES",
    "BillingInterval",
    "Membership",
    "MembershipOffer",
    "MembershipOfferStatus",
    "MembershipPeriod",
    "MembershipStatus",
    "CreditEntry",
    "CreditEntryKind",
    "CreditGrant",
    "CreditSourceKind",
    "PassOffer",
    "PassOfferStatus",
    "PassPurchase",
    "PassPurchaseStatus",
    "PassRefund",
    "PassRefundMode",
    "PassRefundStatus",
    "PassSettings",
    "ValidityStart",
]
