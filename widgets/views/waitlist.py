"""The customer's waitlist pages: join a full class session or a fully booked day, take (or let
go) an offered place, and leave the line. Hosted pages under /book/ (the booking page's CSP
and embedding rules apply); the rules are the waitlists app's services.

The forms are exempt from CSRF checks, like the booking API: the customer pages send
`Referrer-Policy: no-referrer`, so browsers post them with `Origin: null`, which Django's check
refuses; and nothing here rides on a session a forged request could borrow. Acting on an offer
or an entry needs its secret token in the form, and joining asks for nothing an attacker could
not post directly.

Each answer a customer can meet (the place went to someone else, the offer ran out, a wrong
link) is a page that says what happened and what to do next, never an error page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from scheduling.api.throttling import PublicApiThrottle
from scheduling.models import Service
from waitlists.exceptions import WaitlistError
from waitlists.forms import JoinForm
from waitlists.join_cards import join_card_terms
from waitlists.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer
from waitlists.payment import acceptance_payment
from waitlists.selectors import (
    business_zone,
    entry_by_token,
    full_sessions,
    offer_by_token,
    waitlist_settings,
)
from waitlists.services.entries import entry_join, entry_leave
from waitlists.services.offers import Outcome, offer_accept, offer_decline

from ..card_checkout import WAITLIST_STRINGS
from ..page_context import customer_page_context, render_customer_page, widget_language
from ..selectors import branding_get


def _context(request: HttpRequest, page: str) -> dict:
    branding = branding_get()
    language = widget_language(request, branding)
    translation.activate(language)
    context = customer_page_context(request, branding, language)
    context["base_config"]["page"] = page
    context["zone"] = business_zone()
    return context


class _Scope:
    """What `PublicApiThrottle` reads of a view: the scope whose rate applies."""

    def __init__(self, scope: str) -> None:
        self.throttle_scope = scope


def _throttled(request: HttpRequest, context: dict, scope: str) -> HttpResponse | None:
    """The booking API's rate limits, per business and client address: joining counts as a
    hold (it writes a row and leads to emails), acting on an offer or entry as a token lookup."""
    throttle = PublicApiThrottle()
    if throttle.allow_request(request, _Scope(scope)):
        return None
    response = render_customer_page(request, "widgets/waitlist_throttled.html", context, status=429)
    wait = throttle.wait()
    if wait:
        response["Retry-After"] = str(int(wait))
    return response


def _manage_url(booking) -> str:
    path = reverse("manage_booking", args=[booking.reference])
    return f"{path}?{urlencode({'token': booking.manage_token})}"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def join_page(request: HttpRequest, service_id: int) -> HttpResponse:
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise Http404("No such service.")
    context = _context(request, "waitlist")
    if not waitlist_settings().is_enabled:
        context["closed"] = True
        return render_customer_page(request, "widgets/waitlist_join.html", context)
    zone = context["zone"]
    sessions = full_sessions(service=service) if service.capacity > 1 else []
    data = request.POST if request.method == "POST" else None
    initial = {}
    if request.GET.get("occurrence", "").isdigit():
        initial["occurrence"] = int(request.GET["occurrence"])
    card_terms = join_card_terms(service, language=context["language"])
    form = JoinForm(data, initial=initial, service=service, sessions=sessions, zone=zone,
                    card_terms=card_terms)  # fmt: skip
    context.update({"service": service, "form": form, "sessions": sessions,
                    "card_terms": card_terms})  # fmt: skip
    if request.method == "POST" and (refused := _throttled(request, context, "hold")):
        return refused
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        try:
            with timezone.override(zone):
                entry = entry_join(
                    service=service,
                    name=cleaned["name"],
                    email=cleaned["email"],
                    occurrence=next(
                        (s for s in sessions if s.pk == cleaned.get("occurrence")), None
                    )
                    if form.is_class
                    else None,  # fmt: skip
                    day=cleaned.get("day"),
                    staff=None if form.is_class else form.staff_member(),
                    window_start=cleaned.get("window_start"),
                    window_end=cleaned.get("window_end"),
                    language=translation.get_language() or "",
                    needs_card=card_terms is not None,
                )
        except WaitlistError as error:
            form.add_error(None, str(error))
        else:
            context.update({"joined": entry,
                            "leave_url": reverse("waitlist_leave", args=[entry.pk])
                            + "?" + urlencode({"token": entry.token})})  # fmt: skip
            if entry.needs_card and card_terms is not None and not _card_saved(entry):
                context["card_step"] = True
                context["base_config"]["card_strings"] = {
                    key: str(value) for key, value in WAITLIST_STRINGS.items()
                }
                context["base_config"]["waitlist_card"] = {
                    "start_url": reverse("waitlist_card", args=[entry.pk]),
                    "complete_url": reverse("waitlist_card_complete", args=[entry.pk]),
                    "token": entry.token,
                    "consent_digest": card_terms["consent_digest"],
                }
            return render_customer_page(request, "widgets/waitlist_joined.html", context)
    status = 400 if request.method == "POST" else 200
    return render_customer_page(request, "widgets/waitlist_join.html", context, status=status)


def _card_saved(entry: WaitlistEntry) -> bool:
    return WaitlistEntry.objects.filter(pk=entry.pk, card_setup__status="saved").exists()


@csrf_exempt
@require_http_methods(["GET", "POST"])
def offer_page(request: HttpRequest, offer_id: int) -> HttpResponse:
    """GET shows the offer with "take it" and "let it go"; POST does one of them."""
    token = request.POST.get("token") if request.method == "POST" else request.GET.get("token")
    offer = offer_by_token(offer_id, token)
    context = _context(request, "waitlist-offer")
    if offer is None:
        context["state"] = "not_found"
        return render_customer_page(request, "widgets/waitlist_offer.html", context, status=404)
    context.update({"offer": offer, "token": token, "place": offer.place})
    if request.method == "POST" and (refused := _throttled(request, context, "token")):
        return refused
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "decline":
            offer_decline(offer=offer)
            context["state"] = "declined"
            return render_customer_page(request, "widgets/waitlist_offer.html", context)
        if action != "accept":
            context["state"] = "open"
            context["error"] = "Choose to take the place or to let it go."
            return render_customer_page(request, "widgets/waitlist_offer.html", context, status=400)
        acceptance = offer_accept(offer=offer)
        return _after_acceptance(request, context, acceptance.outcome, acceptance.booking,
                                 acceptance.message)  # fmt: skip
    offer.refresh_from_db()
    if offer.status == OfferStatus.ACCEPTED and offer.booking is not None:
        return _after_acceptance(request, context, Outcome.ALREADY, offer.booking, "")
    context["state"] = _state_of(offer)
    return render_customer_page(request, "widgets/waitlist_offer.html", context)


def _state_of(offer: WaitlistOffer) -> str:
    if offer.status == OfferStatus.PENDING:
        return "expired" if offer.expires_at <= timezone.now() else "open"
    return {
        OfferStatus.LOST: "taken",
        OfferStatus.EXPIRED: "expired",
        OfferStatus.DECLINED: "declined",
        OfferStatus.CARD_DECLINED: "declined",
    }.get(offer.status, "closed")  # type: ignore[call-overload]


def _after_acceptance(request: HttpRequest, context: dict, outcome: str, booking, message: str
                      ) -> HttpResponse:  # fmt: skip
    if outcome in (Outcome.TAKEN, Outcome.EXPIRED, Outcome.CLOSED):
        context["state"] = {Outcome.TAKEN: "taken", Outcome.EXPIRED: "expired"}.get(
            outcome, "closed"
        )
        context["refusal"] = message
        # 409: the request was fine, the place is not available; the page says so kindly.
        return render_customer_page(request, "widgets/waitlist_offer.html", context, status=409)
    if booking.status in ("confirmed", "completed"):
        return redirect(_manage_url(booking))
    if booking.status != "held":
        context["state"] = "expired"
        return render_customer_page(request, "widgets/waitlist_offer.html", context, status=409)
    payment = acceptance_payment().after_hold(booking=booking)
    if payment is None:  # nothing due online after all (the service changed meanwhile)
        return redirect(_manage_url(booking))
    context["booking"] = booking
    context["base_config"].update(
        {
            "booking": {"reference": booking.reference, "token": booking.manage_token,
                        "hold_expires_at": booking.hold_expires_at.isoformat()
                        if booking.hold_expires_at else None},
            "payment": payment,
            "manage_url": _manage_url(booking),
        }
    )  # fmt: skip
    return render_customer_page(request, "widgets/waitlist_pay.html", context)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def leave_page(request: HttpRequest, entry_id: int) -> HttpResponse:
    token = request.POST.get("token") if request.method == "POST" else request.GET.get("token")
    entry = entry_by_token(entry_id, token)
    context = _context(request, "waitlist-leave")
    if entry is None:
        context["not_found"] = True
        return render_customer_page(request, "widgets/waitlist_leave.html", context, status=404)
    if request.method == "POST" and (refused := _throttled(request, context, "token")):
        return refused
    if request.method == "POST":
        entry = entry_leave(entry=entry)
    context.update({"entry": entry, "token": token,
                    "left": entry.status in (EntryStatus.LEFT, EntryStatus.REMOVED)})  # fmt: skip
    return render_customer_page(request, "widgets/waitlist_leave.html", context)
