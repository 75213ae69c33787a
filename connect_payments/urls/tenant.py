"""Back-office pages of payments on a business's host (payments, payouts), and the customer's
payment endpoint of the booking API."""

from django.urls import path

from .. import api
from ..views import fees, money, payouts

urlpatterns = [
    path("payments/", money.payment_list, name="payments"),
    path("payments/export.csv", money.payment_export, name="payments_export"),
    path("payments/<int:pk>/", money.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/refund/", money.payment_refund, name="payment_refund"),
    path(
        "payments/<int:pk>/balance-paid/",
        money.payment_mark_balance_paid,
        name="payment_mark_balance_paid",
    ),
    path("payments/fees/<int:pk>/", fees.fee_detail, name="fee_detail"),
    path("payments/fees/<int:pk>/waive/", fees.fee_waive_view, name="fee_waive"),
    path("payments/fees/<int:pk>/refund/", fees.fee_refund_view, name="fee_refund"),
    path("payments/promo-codes/", money.promo_codes, name="promo_codes"),
    path(
        "payments/promo-codes/<int:pk>/deactivate/",
        money.promo_code_deactivate,
        name="promo_code_deactivate",
    ),
    path("payouts/", payouts.payouts, name="payouts"),
    path("payouts/return/", payouts.payouts_return, name="payouts_return"),
    path("payouts/refresh/", payouts.payouts_refresh, name="payouts_refresh"),
    path("payouts/dashboard/", payouts.payouts_dashboard, name="payouts_dashboard"),
    path(
        "api/v1/bookings/<str:reference>/payment/",
        api.BookingPaymentView.as_view(),
        name="booking_payment",
    ),
]
