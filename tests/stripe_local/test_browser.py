"""The Stripe.js stand-in in Debian's Chromium: fill the Payment Element, pay, pass and fail 3DS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from tests.static_pages import static_pages

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

PAGE = """<!doctype html><html lang="{locale}"><head><meta charset="utf-8"><title>Checkout</title>
<script src="{stripe_js}"></script></head><body>
<form id="payment-form"><div id="payment-element"></div>
<button id="pay" type="submit">Pay</button></form>
<p id="change"></p><p id="result"></p>
<script>
const stripe = Stripe("pk_test_local", {{locale: "{locale}"}});
const elements = stripe.elements({{clientSecret: "{client_secret}", locale: "{locale}"}});
const element = elements.create("payment");
element.on("change", (event) => {{
  const text = event.error ? event.error.message : (event.complete ? "complete" : "");
  document.getElementById("change").textContent = text;
}});
element.on("ready", () => document.body.dataset.ready = "yes");
element.mount("#payment-element");
document.getElementById("payment-form").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const result = await stripe.confirmPayment({{elements, redirect: "if_required",
    confirmParams: {{return_url: location.origin + "/done", receipt_email: "ana@example.com"}}}});
  document.getElementById("result").textContent = result.error
    ? "error:" + (result.error.code || result.error.type) + ":" + result.error.message
    : "status:" + result.paymentIntent.status;
}});
</script></body></html>"""


@pytest.fixture
def page_server() -> Iterator[dict[str, Any]]:
    """Serves the checkout page from its own origin (so Stripe.js calls go cross-origin)."""
    with static_pages(host_name="localhost", missing_body="<p>done</p>") as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _checkout(
    browser: Any,
    page_server: dict[str, Any],
    base_url: str,
    client: stripe.StripeClient,
    locale: str = "en",
) -> tuple[Any, stripe.PaymentIntent]:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "eur"})
    path = f"/checkout/{intent.id}"
    page_server["pages"][path] = PAGE.format(
        stripe_js=f"{base_url}/v3/", client_secret=intent.client_secret, locale=locale
    )
    page = browser.new_page()
    page.goto(page_server["origin"] + path)
    page.wait_for_selector("body[data-ready='yes']")
    return page, intent


def _fill(page: Any, number: str, expiry: str = "12 / 34", cvc: str = "123") -> None:
    page.fill("input[name='cardnumber']", number)
    page.fill("input[name='exp-date']", expiry)
    page.fill("input[name='cvc']", cvc)
    page.fill("input[name='postal']", "75011")


@pytest.mark.browser
def test_card_form_pays_and_validates(
    browser: Any, page_server: dict[str, Any], stripe_base_url: str, client: stripe.StripeClient
) -> None:
    page, intent = _checkout(browser, page_server, stripe_base_url, client)
    page.fill("input[name='cardnumber']", "4242 4242 4242 4241")
    page.wait_for_function("document.getElementById('change').textContent.includes('invalid')")
    _fill(page, "4242 4242 4242 4242")
    page.wait_for_function("document.getElementById('change').textContent === 'complete'")
    page.click("#pay")
    page.wait_for_function("document.getElementById('result').textContent !== ''")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "stripe-local-payment-element.png"))
    assert page.text_content("#result") == "status:succeeded"
    paid = client.v1.payment_intents.retrieve(intent.id)
    assert paid.status == "succeeded" and paid.receipt_email == "ana@example.com"
    page.close()


@pytest.mark.browser
def test_declined_card_shows_the_decline(
    browser: Any, page_server: dict[str, Any], stripe_base_url: str, client: stripe.StripeClient
) -> None:
    page, _intent = _checkout(browser, page_server, stripe_base_url, client)
    _fill(page, "4000 0000 0000 9995")
    page.click("#pay")
    page.wait_for_function("document.getElementById('result').textContent !== ''")
    assert page.text_content("#result") == "error:card_declined:Your card has insufficient funds."
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ("complete", "status:succeeded"),
        ("fail", "error:payment_intent_authentication_failure"),
    ],
)
def test_3d_secure_challenge_modal(
    browser: Any,
    page_server: dict[str, Any],
    stripe_base_url: str,
    client: stripe.StripeClient,
    button: str,
    expected: str,
) -> None:
    page, intent = _checkout(browser, page_server, stripe_base_url, client)
    _fill(page, "4000 0025 0000 3155")
    page.click("#pay")
    page.wait_for_selector(f"#local-stripe-3ds-{button}")
    if button == "complete":
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "stripe-local-3ds-challenge.png"))
    page.click(f"#local-stripe-3ds-{button}")
    page.wait_for_function("document.getElementById('result').textContent !== ''")
    assert page.text_content("#result").startswith(expected)
    status = client.v1.payment_intents.retrieve(intent.id).status
    assert status == ("succeeded" if button == "complete" else "requires_payment_method")
    page.close()


@pytest.mark.browser
def test_french_locale_labels_and_errors(
    browser: Any, page_server: dict[str, Any], stripe_base_url: str, client: stripe.StripeClient
) -> None:
    page, _intent = _checkout(browser, page_server, stripe_base_url, client, locale="fr")
    assert "Numéro de carte" in page.text_content("#payment-element")
    _fill(page, "4242 4242 4242 4242", expiry="01 / 20")
    page.wait_for_function("document.getElementById('change').textContent !== ''")
    assert page.text_content("#change") == "L'année d'expiration de votre carte est dépassée."
    page.close()
