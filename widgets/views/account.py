"""The customer's account pages on the business's host: sign in by one-time link, the account
page (bookings, receipts, and the sections other apps register through
`scheduling.ports.register_account_section`), and booking with a credit from the booking page.

Spending credits needs the account's session (a signed-in customer); the booking page asks
`credit-offer` whether to offer a credit and books through `credit-bookings` (CSRF-checked).
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from memberships.services.credit_bookings import booking_with_credit
from scheduling import ports
from scheduling.actors import CUSTOMER
from scheduling.api.public import ApiError, PublicApiView, customer_language, session_of
from scheduling.api.serializers import BookingCreatedSerializer
from scheduling.models import ACTIVE_STATUSES, Booking, BookingSource, Occurrence, Service
from scheduling.services.customer_sign_in import (
    SignInLinkInvalid,
    customer_session_end,
    customer_session_start,
    customer_sign_in_consume,
    customer_sign_in_request,
    signed_in_customer,
)

from ..forms import CustomerSignInForm
from ..page_context import (
    customer_page_context,
    positive_int,
    render_customer_page,
    widget_language,
)
from ..selectors import branding_get


def _page(request: HttpRequest, template: str, extra: dict, status: int = 200) -> HttpResponse:
    branding = branding_get()
    language = widget_language(request, branding)
    with translation.override(language):
        context = customer_page_context(request, branding, language)
        context["base_config"]["page"] = "account"
        context.update(extra)
        response = render_customer_page(request, template, context, status=status)
    # The account's forms post to this host, and browsers send `Origin: null` (refused by the
    # CSRF check) from a no-referrer page; these pages carry no booking token in their URLs.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "POST"])
def sign_in_page(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link. The answer is the same whether the email is known or not."""
    if signed_in_customer(request) is not None and request.method == "GET":
        return HttpResponseRedirect(reverse("customer_account"))
    form = CustomerSignInForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        customer_sign_in_request(email=form.cleaned_data["email"])
        sent = True
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return _page(request, "widgets/account/sign_in.html", {"form": form, "sent": sent}, status)


@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST uses the link: mail scanners that follow links do not burn it."""
    if request.method == "GET":
        return _page(request, "widgets/account/sign_in_link.html", {"token": token})
    try:
        customer = customer_sign_in_consume(token=token)
    except SignInLinkInvalid as error:
        form = CustomerSignInForm()
        context = {"form": form, "sent": False, "link_error": str(error)}
        return _page(request, "widgets/account/sign_in.html", context, status=400)
    customer_session_start(request=request, customer=customer)
    return HttpResponseRedirect(reverse("customer_account"))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    customer_session_end(request=request)
    return HttpResponseRedirect(reverse("customer_sign_in"))


@require_GET
def account_page(request: HttpRequest) -> HttpResponse:
    customer = signed_in_customer(request)
    if customer is None:
        return HttpResponseRedirect(reverse("customer_sign_in"))
    now = timezone.now()
    bookings = list(
        Booking.objects.filter(customer=customer)
        .select_related("service", "staff")
        .order_by("-starts_at")[:100]
    )
    upcoming = sorted(
        (b for b in bookings if b.status in ACTIVE_STATUSES and b.ends_at > now),
        key=lambda b: b.starts_at,
    )
    past = [b for b in bookings if b not in upcoming][:30]
    payments = ports.payments()
    receipts = [
        {"booking": booking, **receipt}
        for booking in bookings
        if (receipt := payments.receipt(booking=booking)) is not None
    ]
    context = {
        "customer": customer,
        "upcoming": upcoming,
        "past": past,
        "receipts": receipts,
        "sections": ports.account_sections(customer),
        "manage_path": "/manage/",
    }
    return _page(request, "widgets/account/account.html", context)


# ---------------------------------------------------------------------------
# Booking with a credit (the booking page's helpers; JSON)
# ---------------------------------------------------------------------------
def _starts_at(value: object) -> datetime | None:
    moment = parse_datetime(value) if isinstance(value, str) else None
    return moment if moment is not None and moment.tzinfo is not None else None


class CreditOfferView(PublicApiView):
    """Whether the signed-in customer could book this time with a credit (read only)."""

    throttle_scope = "browse"

    @extend_schema(exclude=True)  # the booking page's own helper (docs/memberships.md)
    def get(self, request: Request) -> Response:
        customer = signed_in_customer(request._request)
        body: dict = {"signed_in": customer is not None, "offer": None}
        if customer is None:
            return Response(body)
        service_id = positive_int(request.query_params.get("service"))
        service = (
            Service.objects.filter(pk=service_id, is_active=True).first() if service_id else None
        )
        occurrence_id = positive_int(request.query_params.get("occurrence"))
        starts_at = _starts_at(request.query_params.get("start"))
        if occurrence_id is not None and service is not None:
            occurrence = Occurrence.objects.filter(pk=occurrence_id, service=service).first()
            starts_at = occurrence.starts_at if occurrence else None
        if service is None or starts_at is None:
            raise ApiError(code="invalid", message="Name a service and a start time.")
        body["member_price"] = _member_price(customer, service)
        offer = ports.credits().offer_for(customer=customer, service=service, starts_at=starts_at)
        if offer is not None:
            body["offer"] = {
                "label": offer.label,
                "remaining": offer.remaining,
                "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
            }
            body["booking_token"] = credit_booking_token(request._request)
        return Response(body)


def _member_price(customer, service: Service) -> dict | None:
    """The member price the hold will charge this signed-in customer (the server decides it
    again at the hold; this only shows it)."""
    price = ports.pricing().member_price_for(customer=customer, service=service)
    if price is None:
        return None
    return {
        "price_minor": price.price_minor,
        "normal_minor": price.normal_minor,
        "percent_off": price.percent_off,
        "label": price.label,
    }


class CreditBookingView(PublicApiView):
    """Book the chosen time with a credit of the signed-in customer (hold + confirm)."""

    throttle_scope = "hold"

    @extend_schema(exclude=True)  # the booking page's own helper (docs/memberships.md)
    def post(self, request: Request) -> Response:
        # The account's session decides whose credits are spent, so a cross-site request must
        # not ride on it: the token the offer gave this session must come back in a header.
        customer = signed_in_customer(request._request)
        presented = request.headers.get("X-Creneau-Credit-Token", "")
        if customer is not None and not constant_time_compare(
            presented, credit_booking_token(request._request)
        ):
            raise ApiError(
                code="forbidden", http_status=403,
                message="This page is out of date: reload it and try again.",
            )  # fmt: skip
        if customer is None:
            raise ApiError(code="not_signed_in", http_status=403,
                           message="Sign in to book with your credits.")  # fmt: skip
        data = request.data if isinstance(request.data, dict) else {}
        service_id = data.get("service")
        service = (
            Service.objects.filter(pk=service_id, is_active=True).first()
            if isinstance(service_id, int)
            else None
        )
        if service is None:
            raise ApiError(code="not_found", http_status=404, field="service",
                           message="This service does not exist.")  # fmt: skip
        staff_id = data.get("staff") if isinstance(data.get("staff"), int) else None
        if service.capacity > 1:
            occurrence = session_of(service, data, missing="Choose one of the class's sessions.")
            booking = booking_with_credit(service=service, customer=customer, actor=CUSTOMER,
                                          occurrence=occurrence, source=_source(data),
                                          language=customer_language(request))  # fmt: skip
        else:
            starts_at = _starts_at(data.get("start"))
            if starts_at is None:
                raise ApiError(code="invalid", field="start",
                               message="Give the start time with its offset.")  # fmt: skip
            if staff_id is not None and not service.staff.filter(pk=staff_id).exists():
                raise ApiError(
                    code="not_found", http_status=404, field="staff",
                    message="This staff member does not offer this service.",
                )  # fmt: skip
            booking = booking_with_credit(service=service, customer=customer, actor=CUSTOMER,
                                          starts_at=starts_at, staff_id=staff_id,
                                          source=_source(data),
                                          language=customer_language(request))  # fmt: skip
        booking = Booking.objects.select_related("service", "staff").get(pk=booking.pk)
        body = BookingCreatedSerializer(booking).data
        body["payment"] = None
        body["payment_mode"] = booking.payment_mode
        return Response(body, status=201)


def credit_booking_token(request: HttpRequest) -> str:
    """A token bound to this session (an anti-CSRF synchronizer token): the booking page reads
    it from `credit-offer` (same origin only) and sends it back. Django's cookie check cannot
    be used here: the booking page is no-referrer (its URL may carry a manage token), and
    browsers then send `Origin: null`, which that check refuses."""
    if not request.session.session_key:
        request.session.save()
    return salted_hmac("creneau.credit-booking", str(request.session.session_key)).hexdigest()


def _source(data: dict) -> str:
    return BookingSource.WIDGET if data.get("source") == "widget" else BookingSource.BOOKING_PAGE
