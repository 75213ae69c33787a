"""What each row of the business's money tables contributes to `insights_moneyday`, as SQL.

A *move* is one amount of money on one instant: (moved_at, starts_at, service_id, staff_id,
gross, refunds, fees). `starts_at` is the appointment the money belongs to (NULL for passes and
memberships). Each source is a template over the relations it reads, so the same SQL serves the
triggers (one relation is a transition table) and the rebuild (all are the real tables):

- a booking payment: what was paid online on `paid_at` with its platform fee; the balance
  recorded as paid at the venue on `balance_paid_at` (no fee);
- a booking refund that succeeded, on the day it completed, with the fee it gave back;
- a no-show or late-cancellation fee charged (connect_payments' FeeCharge) on `paid_at` with its
  platform fee; refunded (status `refunded`), given back on `updated_at`, the time of the refund;
- a pass purchase paid, with its platform fee; a pass refund that succeeded on its `created_at`
  (executed at once), giving back the fee pro rata (Stripe's `refund_application_fee`);
- a membership invoice paid (MembershipPeriod) with the platform fee of the membership's
  `fee_percent`; its refund on the moment insights recorded it (MembershipRefundMoment), with
  the fee pro rata.
"""

from __future__ import annotations

from connect_payments.models import BookingPayment, FeeCharge, PaymentRefund
from memberships.models import Membership, MembershipPeriod, PassPurchase, PassRefund
from scheduling.models import Booking

from ..models import MembershipRefundMoment, MoneyDay

BOOKING = Booking._meta.db_table
PAYMENT = BookingPayment._meta.db_table
REFUND = PaymentRefund._meta.db_table
FEE = FeeCharge._meta.db_table
PASS = PassPurchase._meta.db_table
PASS_REFUND = PassRefund._meta.db_table
PERIOD = MembershipPeriod._meta.db_table
MEMBERSHIP = Membership._meta.db_table
MOMENT = MembershipRefundMoment._meta.db_table
MONEY_DAY = MoneyDay._meta.db_table

MOVE = "moved_at, starts_at, service_id, staff_id, gross, refunds, fees"


def payment_moves(*, booking: str = BOOKING, payment: str = PAYMENT) -> str:
    return f"""
        SELECT p.paid_at AS moved_at, b.starts_at, b.service_id, b.staff_id,
               p.paid_minor::bigint AS gross, 0::bigint AS refunds, p.fee_minor::bigint AS fees
          FROM {payment} p JOIN {booking} b ON b.id = p.booking_id
         WHERE p.paid_at IS NOT NULL AND p.paid_minor > 0
        UNION ALL
        SELECT p.balance_paid_at, b.starts_at, b.service_id, b.staff_id,
               p.balance_due_minor::bigint, 0::bigint, 0::bigint
          FROM {payment} p JOIN {booking} b ON b.id = p.booking_id
         WHERE p.balance_paid_at IS NOT NULL AND p.balance_due_minor > 0"""  # noqa: S608 (fixed SQL)


def refund_moves(*, booking: str = BOOKING, payment: str = PAYMENT, refund: str = REFUND) -> str:
    return f"""
        SELECT COALESCE(r.completed_at, r.created_at), b.starts_at, b.service_id, b.staff_id,
               0::bigint, r.amount_minor::bigint, -r.fee_refunded_minor::bigint
          FROM {refund} r JOIN {payment} p ON p.id = r.payment_id
          JOIN {booking} b ON b.id = p.booking_id
         WHERE r.status = 'succeeded'"""  # noqa: S608 (fixed SQL)


def fee_moves(*, booking: str = BOOKING, fee: str = FEE) -> str:
    return f"""
        SELECT f.paid_at, b.starts_at, b.service_id, b.staff_id, f.amount_minor::bigint,
               0::bigint, f.application_fee_minor::bigint
          FROM {fee} f JOIN {booking} b ON b.id = f.booking_id
         WHERE f.status IN ('paid', 'refunded') AND f.paid_at IS NOT NULL
        UNION ALL
        SELECT f.updated_at, b.starts_at, b.service_id, b.staff_id, 0::bigint,
               f.amount_minor::bigint, -f.application_fee_minor::bigint
          FROM {fee} f JOIN {booking} b ON b.id = f.booking_id
         WHERE f.status = 'refunded' AND f.paid_at IS NOT NULL"""  # noqa: S608 (fixed SQL)


def pass_moves(*, purchase: str = PASS) -> str:
    return f"""
        SELECT pp.paid_at, NULL::timestamptz, NULL::bigint, NULL::bigint,
               pp.paid_minor::bigint, 0::bigint, pp.fee_minor::bigint
          FROM {purchase} pp WHERE pp.paid_at IS NOT NULL AND pp.paid_minor > 0"""  # noqa: S608 (fixed SQL)


def pass_fee_refunded(refund: str = "pr", purchase: str = "pp") -> str:
    """The platform fee a pass refund gave back: the fee pro rata to the amount, rounded."""
    return (
        f"(CASE WHEN {purchase}.paid_minor > 0 THEN round({purchase}.fee_minor::numeric "
        f"* {refund}.amount_minor / {purchase}.paid_minor) ELSE 0 END)::bigint"
    )


def pass_refund_moves(*, purchase: str = PASS, refund: str = PASS_REFUND) -> str:
    return f"""
        SELECT pr.created_at, NULL::timestamptz, NULL::bigint, NULL::bigint, 0::bigint,
               pr.amount_minor::bigint, -{pass_fee_refunded()}
          FROM {refund} pr JOIN {purchase} pp ON pp.id = pr.purchase_id
         WHERE pr.status = 'succeeded'"""  # noqa: S608 (fixed SQL)


def period_fee(amount: str) -> str:
    """A membership invoice's platform fee: `application_fee_percent` of the amount, rounded."""
    return f"round({amount}::numeric * m.fee_percent / 100)::bigint"


def period_moves(*, period: str = PERIOD) -> str:
    return f"""
        SELECT mp.paid_at, NULL::timestamptz, NULL::bigint, NULL::bigint,
               mp.amount_paid_minor::bigint, 0::bigint, {period_fee("mp.amount_paid_minor")}
          FROM {period} mp JOIN {MEMBERSHIP} m ON m.id = mp.membership_id
         WHERE mp.amount_paid_minor > 0
        UNION ALL
        SELECT COALESCE(mo.refunded_at, mp.paid_at), NULL::timestamptz, NULL::bigint,
               NULL::bigint, 0::bigint, mp.refunded_minor::bigint,
               -{period_fee("mp.refunded_minor")}
          FROM {period} mp JOIN {MEMBERSHIP} m ON m.id = mp.membership_id
          LEFT JOIN {MOMENT} mo ON mo.period_id = mp.id
         WHERE mp.refunded_minor > 0"""  # noqa: S608 (fixed SQL)


def all_moves() -> str:
    """Every move of the current schema, from the tables themselves (the rebuild)."""
    return " UNION ALL ".join(
        f"({moves})"
        for moves in (payment_moves(), refund_moves(), fee_moves(), pass_moves(),
                      pass_refund_moves(), period_moves())
    )  # fmt: skip
