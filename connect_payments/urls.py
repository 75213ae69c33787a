"""Back-office pages of payments on a business's host (payments, payouts), and the customer's
payment endpoint of the booking API."""

from django.urls import path

from . import api, views

urlpatterns = [
    path("payments/", views.payment_list, name="payments"),
    path("payments/export.csv", views.payment_export, name="payments_export"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/refund/", views.payment_refund, name="payment_refund"),
    path(
        "payments/<int:pk>/balance-paid/",
        views.payment_mark_balance_paid,
        name="payment_mark_balance_paid",
    ),
    path("payments/promo-codes/", views.promo_codes, name="promo_codes"),
    path(
        "payments/promo-codes/<int:pk>/deactivate/",
        views.promo_code_deactivate,
        name="promo_code_deactivate",
    ),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/return/", views.payouts_return, name="payouts_return"),
    path("payouts/refresh/", views.payouts_refresh, name="payouts_refresh"),
    path("payouts/dashboard/", views.payouts_dashboard, name="payouts_dashboard"),
    path(
        "api/v1/bookings/<str:reference>/payment/",
        api.BookingPaymentView.as_view(),
        name="booking_payment",
    ),
]
