"""Back-office pages of integrations: calendar feed subscriptions and staff API keys."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from scheduling.models import ApiKey
from scheduling.selectors.integrations import api_keys, feed_staff_for_member
from scheduling.services.integrations import (
    ApiKeyError,
    api_key_create,
    api_key_revoke,
    staff_member_rotate_ics_token,
)
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows


def _sees_every_feed(request: MemberRequest) -> bool:
    # Whoever manages staff and hours (owners, managers) manages every staff member's feed.
    return role_allows(request.membership.role, Permission.MANAGE_CATALOGUE)


def _feed_rows(request: MemberRequest) -> list[dict]:
    rows = []
    for member in feed_staff_for_member(
        user_id=request.user.pk, sees_everyone=_sees_every_feed(request)
    ):
        url = request.build_absolute_uri(
            reverse("scheduling_api:staff_feed", args=[member.ics_token])
        )
        rows.append(
            {
                "staff": member,
                "url": url,
                # webcal:// opens the subscribe dialog of Apple Calendar and Outlook directly.
                "webcal_url": "webcal://" + url.split("://", 1)[1],
                "is_own": member.user_id == request.user.pk,
            }
        )
    return rows


@member_required(Permission.VIEW_OWN_CALENDAR)
def calendar_subscribe(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        "scheduling/integrations/calendar_subscribe.html",
        {"rows": _feed_rows(request), "sees_everyone": _sees_every_feed(request)},
    )


@member_required(Permission.VIEW_OWN_CALENDAR)
@require_POST
def calendar_feed_reset(request: MemberRequest, staff_id: int) -> HttpResponse:
    allowed = feed_staff_for_member(
        user_id=request.user.pk, sees_everyone=_sees_every_feed(request)
    )
    member = next((m for m in allowed if m.pk == staff_id), None)
    if member is None:
        # Someone else's feed, or no such staff member: nothing to reveal either way.
        raise Http404("No such calendar feed.")
    staff_member_rotate_ics_token(staff_member=member, actor_user_id=request.user.pk)
    messages.success(
        request,
        f"New link for {member.display_name}. The old link no longer works: "
        "update the subscription in your calendar app.",
    )
    return redirect("calendar_subscribe")


@member_required(Permission.MANAGE_TEAM)
def api_keys_page(request: MemberRequest) -> HttpResponse:
    created = None
    error = ""
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            created = api_key_create(name=name, created_by_user_id=request.user.pk)
        except ApiKeyError as problem:
            error = str(problem)
    response = render(
        request,
        "scheduling/integrations/api_keys.html",
        {
            "keys": api_keys(),
            "created": created,
            "error": error,
            "name": "" if created else name,
            "staff_api_url": request.build_absolute_uri("/api/v1/staff/bookings/"),
        },
        status=400 if error else 200,
    )
    # The new secret is in this page only: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@member_required(Permission.MANAGE_TEAM)
@require_POST
def api_key_revoke_page(request: MemberRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=key_id)
    if api_key_revoke(key=key, actor_user_id=request.user.pk):
        messages.success(request, f"Key “{key.name}” revoked: it no longer opens the API.")
    return redirect("api_keys")
