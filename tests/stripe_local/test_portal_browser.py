"""The stand-in customer portal in Debian's Chromium: a past-due owner saves a new card (the
open invoice is paid), cancels at period end, undoes it and returns to the site."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from tests.static_pages import static_pages

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
DAY = 86400


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_owner_fixes_the_card_cancels_undoes_and_returns(
    browser: Any, client: stripe.StripeClient
) -> None:
    product = client.v1.products.create(params={"name": "Studio plan"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": 2900,
            "recurring": {"interval": "month"},
        }
    )
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={
            "email": "owner@example.com",
            "test_clock": clock.id,
            "payment_method": "pm_card_chargeCustomerFail",
            "invoice_settings": {"default_payment_method": "pm_card_chargeCustomerFail"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}], "trial_period_days": 3}
    )
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 4 * DAY}
    )
    with static_pages(host_name="localhost", missing_body="<p id='back'>back home</p>") as site:
        session = client.v1.billing_portal.sessions.create(
            params={"customer": customer.id, "return_url": site["origin"] + "/billing"}
        )
        page = browser.new_page()
        page.goto(session.url)
        assert "past_due" in page.inner_text(".sub-status")
        page.fill("#card-number", "4242 4242 4242 4242")
        page.fill("#card-expiry", "12 / 40")
        page.fill("#card-cvc", "123")
        page.click("#save-card")
        page.wait_for_selector("#notice")
        assert "1 open invoice(s) paid" in page.inner_text("#notice")
        assert "4242" in page.inner_text("#card")
        assert "active" in page.inner_text(".sub-status")
        assert "paid" in page.inner_text("#invoices")
        page.click(f"#cancel-{sub.id}")
        page.wait_for_selector(f"#renew-{sub.id}")
        assert "Cancels on" in page.inner_text(".sub-status")
        assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "stripe-local-portal.png"))
        page.click(f"#renew-{sub.id}")
        page.wait_for_selector(f"#cancel-{sub.id}")
        assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
        with page.expect_navigation():
            page.click("#return")
        assert page.url == site["origin"] + "/billing"
        assert page.inner_text("#back") == "back home"
        page.close()
