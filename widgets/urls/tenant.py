"""Tenant-host routes of the widget: hosted booking page, manage page, embed and branding."""

from django.urls import path

from .. import api, card_checkout
from ..views import account, branding, cards, memberships, pages, passes, waitlist

urlpatterns = [
    path("book/", pages.book_page, name="book"),
    path("book/<int:service_id>/", pages.book_page, name="book_service"),
    path("book/waitlist/<int:service_id>/", waitlist.join_page, name="waitlist_join"),
    path("book/waitlist/offer/<int:offer_id>/", waitlist.offer_page, name="waitlist_offer"),
    path("book/waitlist/leave/<int:entry_id>/", waitlist.leave_page, name="waitlist_leave"),
    path(
        "book/waitlist/card/<int:entry_id>/",
        card_checkout.WaitlistCardView.as_view(),
        name="waitlist_card",
    ),
    path(
        "book/waitlist/card/<int:entry_id>/complete/",
        card_checkout.WaitlistCardCompleteView.as_view(),
        name="waitlist_card_complete",
    ),
    path("manage/<str:reference>/", pages.manage_page, name="manage_booking"),
    path("manage/fee/<int:pk>/", cards.fee_pay_page, name="fee_pay"),
    path("manage/fee/<int:pk>/status/", card_checkout.FeeStatusView.as_view(), name="fee_status"),
    path("widget/days/", api.DaysView.as_view(), name="widget_days"),
    path("widget/theme.css", pages.theme_css, name="widget_theme"),
    path("widget/logo/<str:version>/", pages.logo, name="widget_logo"),
    path(
        "widget/bookings/<str:reference>/confirm/",
        api.BookingConfirmView.as_view(),
        name="widget_booking_confirm",
    ),
    path(
        "widget/bookings/<str:reference>/card/",
        card_checkout.CardSetupView.as_view(),
        name="widget_booking_card",
    ),
    path(
        "widget/bookings/<str:reference>/card/complete/",
        card_checkout.CardSetupCompleteView.as_view(),
        name="widget_booking_card_complete",
    ),
    path(
        "widget/bookings/<str:reference>/",
        api.BookingPolicyView.as_view(),
        name="widget_booking",
    ),
    # The customer's account (one-time link sign-in), passes, booking with a credit.
    path("my/", account.account_page, name="customer_account"),
    path("my/sign-in/", account.sign_in_page, name="customer_sign_in"),
    path("my/sign-in/<str:token>/", account.sign_in_link, name="customer_sign_in_link"),
    path("my/sign-out/", account.sign_out, name="customer_sign_out"),
    path("my/credit-offer/", account.CreditOfferView.as_view(), name="customer_credit_offer"),
    path(
        "my/credit-bookings/", account.CreditBookingView.as_view(), name="customer_credit_booking"
    ),
    path("my/cards/<int:pk>/remove/", cards.account_card_remove, name="customer_saved_card_remove"),
    path("my/passes/", passes.passes_page, name="customer_passes"),
    path("my/passes/<int:offer_id>/buy/", passes.pass_buy, name="customer_pass_buy"),
    path("my/purchases/<int:purchase_id>/", passes.purchase_page, name="customer_purchase"),
    path("my/memberships/", memberships.memberships_page, name="customer_memberships"),
    path(
        "my/memberships/join/<int:offer_id>/",
        memberships.membership_join_view,
        name="customer_membership_join",
    ),
    path("my/memberships/<int:pk>/", memberships.membership_page, name="customer_membership"),
    path(
        "my/memberships/<int:pk>/cancel/",
        memberships.membership_cancel_view,
        name="customer_membership_cancel",
    ),
    path(
        "my/memberships/<int:pk>/card/",
        memberships.membership_card_page,
        name="customer_membership_card",
    ),
    path("branding/", branding.branding_page, name="branding"),
    path("embed/", branding.embed_page, name="embed"),
]
