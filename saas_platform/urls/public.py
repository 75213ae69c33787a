"""URLs of the platform host (PLATFORM_DOMAIN): public site, signup, console, health."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from two_factor.urls import urlpatterns as two_factor_urls

from billing.views import console as billing_console
from billing.views import plans
from tenants.views import verify_second_factor

from .. import console, views

# An unreachable database: 503 with Retry-After, not a 500 page (also on tenant hosts).
handler500 = "saas_platform.unavailable.server_error"

console_patterns = (
    [
        path("", console.tenant_list, name="tenant_list"),
        path("audit/", console.audit_log, name="audit_log"),
        path("revenue/", console.revenue, name="revenue"),
        path("platform/", console.platform, name="platform"),
        path("plans/", plans.plan_list, name="plans"),
        path("plans/new/", plans.plan_create, name="plan_create"),
        path("plans/<slug:code>/", plans.plan_edit, name="plan_edit"),
        path("plans/<slug:code>/<str:action>/", plans.plan_sale, name="plan_sale"),
        path("tenants/<slug:slug>/", console.tenant_detail, name="tenant_detail"),
        path("tenants/<slug:slug>/suspend/", console.tenant_suspend, name="tenant_suspend"),
        path(
            "tenants/<slug:slug>/billing/<str:action>/",
            billing_console.billing_action,
            name="billing_action",
        ),
        path(
            "tenants/<slug:slug>/<str:action>/",
            console.tenant_set_status,
            name="tenant_set_status",
        ),
    ],
    "console",
)

urlpatterns = [
    path("", views.landing, name="landing"),
    path("signup/", views.signup, name="signup"),
    path("console/", include(console_patterns)),
    path("stripe/", include("connect_payments.urls.public")),
    path("", include("widgets.urls.public")),
    path("", include(two_factor_urls)),
    path("account/verify/", verify_second_factor, name="account_verify"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("django.contrib.auth.urls")),
]
