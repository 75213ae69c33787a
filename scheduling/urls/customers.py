"""Back-office pages of customers: the list and a customer's page."""

from django.urls import path

from scheduling.views import customers

urlpatterns = [
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer_detail"),
]
