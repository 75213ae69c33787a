"""URLs of a tenant host (`<slug>.<PLATFORM_DOMAIN>`): back office, customer pages, API."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from two_factor.urls import urlpatterns as two_factor_urls

from insights.views import home
from tenants import views as tenant_views

# An unreachable database: 503 with Retry-After, not a 500 page (saas_platform.unavailable).
handler500 = "saas_platform.unavailable.server_error"

# Public, like the API itself (/api/ is a customer path in tenants.middleware).
api_documentation = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
]

urlpatterns = [
    path("", home, name="dashboard"),
    path("", include("insights.urls")),
    path("", include("scheduling.urls.calendar")),
    path("", include("scheduling.urls.customers")),
    path("", include("scheduling.urls.catalogue")),
    path("", include("scheduling.urls.integrations")),
    path("", include("connect_payments.urls.tenant")),
    path("", include("widgets.urls.tenant")),
    path("", include("waitlists.urls")),
    path("", include("memberships.urls")),
    path("", include("billing.urls")),
    path("team/", tenant_views.team, name="team"),
    path("invite/<str:token>/", tenant_views.invitation_accept, name="invitation_accept"),
    path("account/welcome/", tenant_views.login_handoff, name="login_handoff"),
    path("account/verify/", tenant_views.verify_second_factor, name="account_verify"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("scheduling.api.urls")),
    path("api/", include(api_documentation)),
    path("", include(two_factor_urls)),
    path("account/", include("django.contrib.auth.urls")),
]
