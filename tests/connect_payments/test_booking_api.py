"""The booking API's payment contract (what the widget codes against), over the tenant host."""

import json
import signal
import socket
import threading

import pytest

from connect_payments.models import BookingPayment
from scheduling.models import Booking, BookingStatus, Service
from stripe_local.testing import local
from tests.factories import client_for

from .conftest import PUBLISHABLE_KEY, TEN_AM, in_schema

PAYMENT_KEYS = {
    "required", "kind", "amount_minor", "currency", "balance_due_minor", "client_secret",
    "publishable_key", "stripe_js_url", "status", "message", "discount_minor", "promo_code",
}  # fmt: skip


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def hold(api, catalogue, expected_status=201):
    response = post_json(api, "/api/v1/bookings/", {
        "service": catalogue["service"].pk, "start": TEN_AM.isoformat(),
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    })  # fmt: skip
    assert response.status_code == expected_status, response.content
    return response.json()


def test_hold_of_a_service_paid_online_returns_what_the_widget_needs(
    alpha_account, catalogue, api, stripe_base_url, sdk
):
    created = hold(api, catalogue)

    payment = created["payment"]
    assert set(payment) == PAYMENT_KEYS  # the fee is never shown to customers
    assert payment["required"] is True
    assert payment["kind"] == "full"
    assert (payment["amount_minor"], payment["currency"], payment["balance_due_minor"]) == (
        4500, "EUR", 0,
    )  # fmt: skip
    assert payment["client_secret"].startswith("pi_")
    assert payment["publishable_key"] == PUBLISHABLE_KEY
    assert payment["stripe_js_url"] == f"{stripe_base_url}/v3/"
    assert payment["status"] == "requires_payment_method"
    assert payment["message"] is None
    assert created["status"] == "held"


def test_pay_then_return_path_confirms(alpha_account, catalogue, api, sdk, tenant_alpha):
    created = hold(api, catalogue)
    intent_id = created["payment"]["client_secret"].split("_secret_")[0]
    sdk.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})

    status = api.get(
        f"/api/v1/bookings/{created['reference']}/", {"token": created["manage_token"]}
    ).json()

    assert status["status"] == "confirmed"
    assert status["payment"] == {
        "status": "succeeded", "amount_minor": 4500, "paid_minor": 4500, "refunded_minor": 0,
        "discount_minor": 0, "balance_due_minor": 0, "currency": "EUR", "last_error": None,
    }  # fmt: skip


def test_decline_message_is_shown_on_the_status(alpha_account, catalogue, api, sdk):
    import stripe

    created = hold(api, catalogue)
    intent_id = created["payment"]["client_secret"].split("_secret_")[0]
    with pytest.raises(stripe.CardError):
        sdk.v1.payment_intents.confirm(
            intent_id, params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
        )

    status = api.get(
        f"/api/v1/bookings/{created['reference']}/", {"token": created["manage_token"]}
    ).json()

    assert status["status"] == "held"
    assert status["payment"]["status"] == "requires_payment_method"
    assert status["payment"]["paid_minor"] == 0
    assert status["payment"]["last_error"] == "Your card has insufficient funds."


def test_pay_at_venue_has_no_payment(alpha, catalogue, api):
    Service.objects.filter(pk=catalogue["service"].pk).update(payment_mode="pay_at_venue")
    created = hold(api, catalogue)
    assert created["payment"] is None
    status = api.get(
        f"/api/v1/bookings/{created['reference']}/", {"token": created["manage_token"]}
    ).json()
    assert status["payment"] is None


def test_business_without_charges_enabled_refuses_online_services(alpha, catalogue, api):
    response = post_json(api, "/api/v1/bookings/", {
        "service": catalogue["service"].pk, "start": TEN_AM.isoformat(),
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    })  # fmt: skip

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "payments_unavailable"
    assert "online payments" in error["message"]
    in_schema(alpha)
    assert not Booking.objects.exists()
    services = api.get("/api/v1/services/").json()
    assert [s["online_payment_available"] for s in services] == [False]


def test_services_say_online_payment_is_available(alpha_account, catalogue, api):
    assert [s["online_payment_available"] for s in api.get("/api/v1/services/").json()] == [True]


def test_stripe_down_keeps_the_hold_and_the_retry_endpoint_makes_one_intent(
    alpha_account, catalogue, api, sdk, stripe_base_url, tenant_alpha
):
    local(stripe_base_url, "/_local/fail_next", {"path": "/v1/payment_intents", "status": 500})
    created = hold(api, catalogue)

    assert created["status"] == "held"
    assert created["payment"]["client_secret"] is None
    assert created["payment"]["status"] == "unavailable"
    assert created["payment"]["message"]

    url = f"/api/v1/bookings/{created['reference']}/payment/"
    local(stripe_base_url, "/_local/fail_next", {"path": "/v1/payment_intents", "status": 503})
    still_down = post_json(api, url, {"token": created["manage_token"]})
    assert still_down.status_code == 502
    assert still_down.json()["error"]["code"] == "payment_provider_unavailable"

    first = post_json(api, url, {"token": created["manage_token"]})
    second = post_json(api, url, {"token": created["manage_token"]})

    assert first.status_code == 200 and second.status_code == 200
    assert set(first.json()) == PAYMENT_KEYS
    assert first.json()["client_secret"] == second.json()["client_secret"]
    assert first.json()["status"] == "requires_payment_method"
    intents = [
        i
        for i in sdk.v1.payment_intents.list(params={"limit": 100}).data
        if i.metadata.get("booking_reference") == created["reference"]
    ]
    assert len(intents) == 1


def test_payment_endpoint_checks_token_and_booking_state(
    alpha_account, catalogue, api, tenant_alpha
):
    created = hold(api, catalogue)
    url = f"/api/v1/bookings/{created['reference']}/payment/"

    assert post_json(api, url, {"token": "wrong"}).status_code == 404
    assert post_json(api, url, {}).status_code == 404
    assert (
        post_json(
            api, "/api/v1/bookings/NOPE-1234/payment/", {"token": created["manage_token"]}
        ).status_code
        == 404
    )

    in_schema(tenant_alpha)
    Booking.objects.filter(reference=created["reference"]).update(status=BookingStatus.EXPIRED)
    gone = post_json(api, url, {"token": created["manage_token"]})
    assert gone.status_code == 409
    assert gone.json()["error"]["message"]


def test_customer_cancel_refunds_by_policy(alpha_account, catalogue, api, sdk, tenant_alpha):
    created = hold(api, catalogue)
    intent_id = created["payment"]["client_secret"].split("_secret_")[0]
    sdk.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    api.get(f"/api/v1/bookings/{created['reference']}/", {"token": created["manage_token"]})

    response = post_json(
        api,
        f"/api/v1/bookings/{created['reference']}/cancel/",
        {"token": created["manage_token"], "reason": "Sick"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["refund_percent"], body["refund_minor"]) == (100, 4500)  # years ahead: 100 %
    charge = sdk.v1.payment_intents.retrieve(intent_id).latest_charge
    assert sdk.v1.charges.retrieve(charge).amount_refunded == 4500
    in_schema(tenant_alpha)
    payment = BookingPayment.objects.get()
    assert payment.refunded_minor == 4500
    assert payment.fee_refunded_minor == 138
    status = api.get(
        f"/api/v1/bookings/{created['reference']}/", {"token": created["manage_token"]}
    ).json()
    assert status["status"] == "cancelled"
    assert status["payment"]["refunded_minor"] == 4500


def test_schema_documents_the_payment_objects_as_the_api_returns_them(
    alpha_account, catalogue, api
):
    schema = json.loads(api.get("/api/schema/", {"format": "json"}).content)
    components = schema["components"]["schemas"]

    def component(ref_holder: dict) -> dict:
        return components[ref_holder["$ref"].rsplit("/", 1)[1]]

    def response_of(path: str, method: str, status: str) -> dict:
        return component(
            schema["paths"][path][method]["responses"][status]["content"]["application/json"][
                "schema"
            ]
        )

    def payment_of(booking_component: dict) -> dict:
        declared = booking_component["properties"]["payment"]
        assert declared.get("nullable") is True or {"type": "null"} in declared.get("oneOf", [])
        [ref] = [
            part for part in declared.get("allOf", declared.get("oneOf", [])) if "$ref" in part
        ]
        return component(ref)

    request = component(
        schema["paths"]["/api/v1/bookings/"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]
    )
    assert request["properties"]["promo_code"]["type"] == "string"
    assert "promo_code" not in request.get("required", [])

    created = hold(api, catalogue)
    held = response_of("/api/v1/bookings/", "post", "201")
    assert set(held["properties"]) == set(created)
    hold_payment = payment_of(held)
    assert set(hold_payment["properties"]) == set(created["payment"]) == PAYMENT_KEYS
    retry = response_of("/api/v1/bookings/{reference}/payment/", "post", "200")
    assert retry == hold_payment

    status = api.get(
        f"/api/v1/bookings/{created['reference']}/", {"token": created["manage_token"]}
    ).json()
    detail = response_of("/api/v1/bookings/{reference}/", "get", "200")
    assert set(detail["properties"]) == set(status)
    assert set(payment_of(detail)["properties"]) == set(status["payment"])


def test_a_hanging_stripe_costs_the_checkout_a_bounded_wait_and_keeps_the_hold(
    alpha_account, catalogue, api, settings, tenant_alpha
):
    """Stripe accepting connections and never answering (a real socket that reads nothing
    back): the hold answers with a clear message once the read timeout passes, instead of the
    SDK's 80 s per attempt."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept_forever() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept_forever, daemon=True).start()
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.STRIPE_READ_TIMEOUT = 0.5
    settings.STRIPE_MAX_NETWORK_RETRIES = 1

    class Stuck(BaseException):  # not an OSError: the HTTP stack must not swallow it
        pass

    def stuck(signum, frame):
        raise Stuck("the checkout is still waiting for Stripe after 30 s")

    # Liveness, not speed: without a timeout the SDK waits 80 s per attempt (160 s here).
    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(30)
    try:
        created = hold(api, catalogue)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        listener.close()
        for connection_ in accepted:
            connection_.close()
    assert accepted, "Stripe was never called"
    assert created["status"] == "held"
    assert created["payment"]["status"] == "unavailable"
    assert created["payment"]["message"]
    in_schema(tenant_alpha)
    assert Booking.objects.get(reference=created["reference"]).status == BookingStatus.HELD
