"""Page guards for a tenant's back office: membership, role permission, second factor."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from .roles import SECOND_FACTOR_PERMISSIONS, Permission, role_allows


def second_factor_redirect(request: HttpRequest) -> HttpResponse:
    """Send a person without a verified second factor to enrol, or to verify their device."""
    query = urlencode({"next": request.get_full_path()})
    if user_has_device(request.user):
        return redirect(f"{reverse('account_verify')}?{query}")
    return redirect(f"{reverse('two_factor:setup')}?{query}")


def member_required(permission: Permission = Permission.VIEW_OWN_CALENDAR) -> Callable:
    """Allow active members whose role grants `permission`.

    Non-members never reach here (TenantAccessMiddleware answers 404); anonymous visitors go to
    sign in; members without the permission get 403; pages of SECOND_FACTOR_PERMISSIONS also
    require a verified second factor.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                raise PermissionDenied
            if not role_allows(membership.role, permission):
                raise PermissionDenied("Your role does not give access to this page.")
            if permission in SECOND_FACTOR_PERMISSIONS and not request.user.is_verified():
                return second_factor_redirect(request)
            return view(request, *args, **kwargs)

        # Read by the role-matrix test; a function attribute mypy cannot see.
        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def operator_required(view: Callable) -> Callable:
    """Console pages: platform operators with a verified second factor; others get 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_operator:
            from django.http import Http404

            raise Http404("No such page.")
        if not request.user.is_verified():
            return second_factor_redirect(request)
        return view(request, *args, **kwargs)

    return wrapped
