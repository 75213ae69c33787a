"""Tenant-host pages of the platform foundation: dashboard, team, invitations, sign-in helpers."""

from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.forms import OTPTokenForm

from outbox.services import outbox_enqueue

from . import selectors, services
from .access import member_required
from .exceptions import TenancyError
from .forms import AcceptInvitationForm, InvitationForm, RoleChangeForm
from .http import MemberRequest, TenantRequest
from .models import Membership
from .roles import ROLE_LABELS, Permission
from .tasks import send_invitation_email


def _login_on_this_host(request: HttpRequest, user) -> None:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")


def section_page(permission: Permission, title: str, text: str):
    """A placeholder page behind `permission`, for sections whose pages are still to come."""

    @member_required(permission)
    def view(request: MemberRequest) -> HttpResponse:
        return render(request, "tenant/section.html", {"title": title, "text": text})

    return view


@member_required(Permission.MANAGE_TEAM)
def team(request: MemberRequest) -> HttpResponse:
    membership: Membership = request.membership
    tenant = request.tenant
    invite_form = InvitationForm(granter_role=membership.role)
    role_form = RoleChangeForm(
        granter_role=membership.role, team=selectors.team_of_tenant(tenant=tenant)
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "invite":
                invite_form = InvitationForm(request.POST, granter_role=membership.role)
                if invite_form.is_valid():
                    _invite(request, invite_form)
                    return redirect("team")
            elif action == "role":
                role_form = RoleChangeForm(
                    request.POST,
                    granter_role=membership.role,
                    team=selectors.team_of_tenant(tenant=tenant),
                )
                if role_form.is_valid():
                    services.membership_change_role(
                        actor_membership=membership,
                        membership=role_form.cleaned_data["membership"],
                        role=role_form.cleaned_data["role"],
                    )
                    messages.success(request, "Role changed.")
                    return redirect("team")
            elif action in ("deactivate", "reactivate"):
                target = get_object_or_404(
                    Membership, pk=request.POST.get("membership"), tenant=tenant
                )
                if action == "deactivate":
                    services.membership_deactivate(actor_membership=membership, membership=target)
                    messages.success(
                        request, f"{target.user.full_name} can no longer sign in here."
                    )
                else:
                    services.membership_reactivate(actor_membership=membership, membership=target)
                    messages.success(request, f"{target.user.full_name} is active again.")
                return redirect("team")
            else:
                messages.error(request, "Unknown action.")
        except TenancyError as error:
            messages.error(request, str(error))
    return render(
        request,
        "team/team.html",
        {
            "team": selectors.team_of_tenant(tenant=tenant),
            "invitations": selectors.pending_invitations(tenant=tenant),
            "invite_form": invite_form,
            "role_form": role_form,
            "role_labels": ROLE_LABELS,
        },
        status=200 if request.method == "GET" else 400,
    )


def _invite(request: MemberRequest, form: InvitationForm) -> None:
    # The invitation and its email are written down together: a broker that is down now loses
    # no email (the outbox sweep sends it when the broker is back).
    with transaction.atomic():
        invitation = services.invitation_create(
            tenant=request.tenant,
            actor_membership=request.membership,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
        token = services.invitation_token(invitation)
        accept_url = request.build_absolute_uri(reverse("invitation_accept", args=[token]))
        outbox_enqueue(send_invitation_email.name, args=[invitation.pk, accept_url])
    messages.success(request, f"Invitation sent to {invitation.email}.")


def invitation_accept(request: TenantRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token=token, tenant=request.tenant)
    except TenancyError as error:
        return render(request, "team/invitation_invalid.html", {"message": str(error)}, status=400)
    user = request.user if request.user.is_authenticated else None
    needs_account = user is None and not selectors.user_exists(email=invitation.email)
    form = AcceptInvitationForm(email=invitation.email)
    if request.method == "POST":
        try:
            if needs_account:
                form = AcceptInvitationForm(request.POST, email=invitation.email)
                if form.is_valid():
                    membership = services.invitation_accept(
                        invitation=invitation,
                        user=None,
                        full_name=form.cleaned_data["full_name"],
                        password=form.cleaned_data["password"],
                    )
                    _login_on_this_host(request, membership.user)
                    return redirect("dashboard")
            elif user is not None:
                services.invitation_accept(invitation=invitation, user=user)
                return redirect("dashboard")
        except TenancyError as error:
            return render(
                request, "team/invitation_invalid.html", {"message": str(error)}, status=400
            )
    return render(
        request,
        "team/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "needs_account": needs_account,
            "must_sign_in": user is None and not needs_account,
        },
    )


def login_handoff(request: TenantRequest) -> HttpResponse:
    """Land a new owner, signed in, on their dashboard after signing up on the platform host."""
    try:
        user = services.login_handoff_consume(
            token=request.GET.get("token", ""), tenant=request.tenant
        )
    except TenancyError as error:
        return render(request, "team/invitation_invalid.html", {"message": str(error)}, status=400)
    _login_on_this_host(request, user)
    return redirect("dashboard")


def verify_second_factor(request: HttpRequest) -> HttpResponse:
    """Verify an enrolled device for a session that signed in without it."""
    if not request.user.is_authenticated:
        return redirect("two_factor:login")
    next_url = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "/"
    form = OTPTokenForm(request.user, request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        otp_login(request, request.user.otp_device)
        return redirect(next_url)
    return render(request, "account/verify.html", {"form": form, "next": next_url})
