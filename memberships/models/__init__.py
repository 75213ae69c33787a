"""Memberships' tables (tenant schema): the credit ledger (credits.py) and passes (passes.py).

Other modules (memberships.py for recurring memberships) sit beside these and are re-exported
here so `from memberships.models import X` keeps working.
"""

from .credits import CreditEntry, CreditEntryKind, CreditGrant, CreditSourceKind
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
