"""Back-office waitlist pages: every open line (class sessions, services' days) with the people
in their order, reordering, removing and offering a place by hand, the figures, and the
settings. Front desk and up see and act (customers' emails are shown: VIEW_ALL_CUSTOMERS);
the settings are the managers'."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from scheduling.actors import Actor
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows

from .exceptions import WaitlistError
from .forms import OfferByHandForm, SettingsForm
from .models import WaitlistEntry
from .selectors import pending_offer_of, waitlist_figures, waitlist_lines, waitlist_settings
from .services.entries import entry_move, entry_remove
from .services.offers import offer_by_hand

FIGURES_DAYS = 30


def _zone(request: MemberRequest) -> ZoneInfo:
    return ZoneInfo(request.tenant.time_zone or "UTC")


def _actor(request: MemberRequest) -> Actor:
    user = request.user
    return Actor(label=user.get_full_name() or user.email, user_id=user.pk)


@member_required(Permission.VIEW_ALL_CUSTOMERS)
def waitlist_page(request: MemberRequest) -> HttpResponse:
    zone = _zone(request)
    now = timezone.now()
    lines = waitlist_lines(on_or_after=now.astimezone(zone).date(), zone=zone)
    rows = [
        {
            "line": line,
            "entries": [
                {"entry": entry, "rank": rank, "offer": pending_offer_of(entry)}
                for rank, entry in enumerate(line.entries, start=1)
            ],
        }
        for line in lines
    ]
    context = {
        "rows": rows,
        "zone": zone,
        "figures": waitlist_figures(start=now - timedelta(days=FIGURES_DAYS), end=now),
        "figures_days": FIGURES_DAYS,
        "can_act": role_allows(request.membership.role, Permission.MANAGE_BOOKINGS),
        "can_configure": role_allows(request.membership.role, Permission.MANAGE_CATALOGUE),
        "settings": waitlist_settings(),
        "hand_form": OfferByHandForm(auto_id=False),
    }
    return render(request, "waitlists/waitlist.html", context)


@require_POST
@member_required(Permission.MANAGE_BOOKINGS)
def entry_move_view(request: MemberRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry, pk=pk)
    entry_move(entry=entry, up=request.POST.get("direction") != "down")
    return redirect("waitlists")


@require_POST
@member_required(Permission.MANAGE_BOOKINGS)
def entry_remove_view(request: MemberRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry, pk=pk)
    entry_remove(entry=entry)
    messages.success(request, f"{entry.name} was taken off the waitlist.")
    return redirect("waitlists")


@require_POST
@member_required(Permission.MANAGE_BOOKINGS)
def offer_by_hand_view(request: MemberRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry, pk=pk)
    zone = _zone(request)
    with timezone.override(zone):
        form = OfferByHandForm(request.POST)
        valid = form.is_valid()
    if not valid:
        messages.error(request, "Give the time as a date and a time.")
        return redirect("waitlists")
    try:
        offer_by_hand(entry=entry, actor=_actor(request), starts_at=form.start_in(zone),
                      staff_id=form.cleaned_data["staff"].pk if form.cleaned_data["staff"]
                      else None)  # fmt: skip
    except WaitlistError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"A place was offered to {entry.name}; the email is on its way.")
    return redirect("waitlists")


@member_required(Permission.MANAGE_CATALOGUE)
def settings_page(request: MemberRequest) -> HttpResponse:
    form = SettingsForm(request.POST or None, instance=waitlist_settings())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Waitlist settings saved.")
        return redirect("waitlist_settings")
    status = 400 if request.method == "POST" else 200
    return render(request, "waitlists/settings.html", {"form": form}, status=status)
