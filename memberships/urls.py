"""Back-office pages of passes and credits on a business's host."""

from django.urls import path

from .views import credits, offers

urlpatterns = [
    path("passes/", offers.offer_list, name="pass_offers"),
    path("passes/settings/", offers.pass_settings_save, name="pass_settings"),
    path("passes/sales/", credits.pass_sales, name="pass_sales"),
    path("passes/sales/<int:pk>/refund/", credits.pass_sale_refund, name="pass_sale_refund"),
    path("passes/<int:pk>/", offers.offer_edit, name="pass_offer_edit"),
    path("passes/<int:pk>/status/", offers.offer_status, name="pass_offer_status"),
    path("credits/", credits.credit_customers, name="credit_customers"),
    path("credits/<int:pk>/", credits.customer_credits, name="customer_credits"),
    path("credits/<int:pk>/book/", credits.customer_credit_booking, name="customer_credit_book"),
    path("credits/<int:pk>/adjust/", credits.customer_credit_adjust, name="customer_credit_adjust"),
]
