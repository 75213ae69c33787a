"""Payment records, re-exported for Django (app label `connect_payments`, tables unchanged).

Public schema (`public.py`): the tenant <-> connected-account map and the store of received
Stripe events. Tenant schema (`tenant.py`): booking payments, their refunds and history, promo
codes; cards on file (`cards.py`): Stripe customers, saved cards, consents, fees.
The operator's fee overrides are billing's (`billing.models.FeeOverride`).
"""

from .cards import (
    CardCustomer,
    CardSetup,
    CardSetupStatus,
    FeeCharge,
    FeeEvent,
    FeeKind,
    FeeStatus,
    SavedCard,
)
from .public import ConnectedAccount, StripeEvent, StripeEventOutcome
from .tenant import (
    NO_REFUND_ACTION,
    PAID_STATUSES,
    BookingPayment,
    PaymentEvent,
    PaymentKind,
    PaymentRefund,
    PaymentStatus,
    PromoCode,
    PromoKind,
    RefundOrigin,
    RefundStatus,
)

__all__ = [
    "NO_REFUND_ACTION",
    "PAID_STATUSES",
    "BookingPayment",
    "CardCustomer",
    "CardSetup",
    "CardSetupStatus",
    "FeeCharge",
    "FeeEvent",
    "FeeKind",
    "FeeStatus",
    "SavedCard",
    "ConnectedAccount",
    "PaymentEvent",
    "PaymentKind",
    "PaymentRefund",
    "PaymentStatus",
    "PromoCode",
    "PromoKind",
    "RefundOrigin",
    "RefundStatus",
    "StripeEvent",
    "StripeEventOutcome",
]
