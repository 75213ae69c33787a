"""Plans become Stripe Products and Prices found by lookup_key, idempotently; a price change
creates a new Price that takes the lookup key, never edits the old one."""

from __future__ import annotations

import pytest
import stripe
from django.core.management import call_command
from djstripe import models as djstripe_models

from billing.catalogue import price_for, price_lookup_key
from billing.models import Plan

pytestmark = pytest.mark.django_db


def _prices(client: stripe.StripeClient, key: str) -> list[stripe.Price]:
    return list(client.v1.prices.list({"lookup_keys": [key]}).data)


def test_sync_creates_monthly_yearly_and_seat_prices_once(stripe_client, capsys) -> None:
    call_command("billing_sync_plans")
    first = capsys.readouterr().out
    assert "starter: price creneau_starter_monthly created as" in first
    call_command("billing_sync_plans")
    assert "(0 change(s))" in capsys.readouterr().out

    studio = Plan.objects.get(code="studio")
    monthly = price_for(studio, "month")
    yearly = price_for(studio, "year")
    seat = price_for(studio, "month", seat=True)
    assert monthly is not None and monthly.unit_amount == 4900
    assert monthly.recurring is not None and monthly.recurring.interval == "month"
    assert yearly is not None and yearly.unit_amount == 49000
    assert yearly.recurring is not None and yearly.recurring.interval == "year"
    assert seat is not None and seat.unit_amount == 700
    assert monthly.product == "creneau_plan_studio"
    # one Price per lookup key, mirrored in dj-stripe's tables
    assert len(_prices(stripe_client, price_lookup_key(studio, "month"))) == 1
    assert djstripe_models.Price.objects.get(id=monthly.id).product_id == "creneau_plan_studio"
    assert djstripe_models.Product.objects.filter(id__startswith="creneau_plan_").count() == 3


def test_a_changed_plan_name_updates_the_product_and_leaves_prices_alone(stripe_client) -> None:
    call_command("billing_sync_plans")
    pro = Plan.objects.get(code="pro")
    before = price_for(pro, "year")
    Plan.objects.filter(pk=pro.pk).update(name="Pro Plus")

    call_command("billing_sync_plans")

    assert stripe_client.v1.products.retrieve("creneau_plan_pro").name == "Pro Plus"
    after = price_for(pro, "year")
    assert before is not None and after is not None and after.id == before.id


def test_a_changed_price_creates_a_new_price_and_keeps_the_old_one(stripe_client) -> None:
    call_command("billing_sync_plans")
    starter = Plan.objects.get(code="starter")
    old = price_for(starter, "month")
    assert old is not None and old.unit_amount == 1900
    Plan.objects.filter(pk=starter.pk).update(monthly_price_minor=2400)
    starter.refresh_from_db()

    call_command("billing_sync_plans")

    new = price_for(starter, "month")
    assert new is not None and new.id != old.id and new.unit_amount == 2400
    assert [p.id for p in _prices(stripe_client, "creneau_starter_monthly")] == [new.id]
    kept = stripe_client.v1.prices.retrieve(old.id)
    # existing subscribers keep the old Price: same amount, still active, no lookup key
    assert kept.unit_amount == 1900 and kept.active is True and kept.lookup_key is None
    assert len(stripe_client.v1.prices.list({"product": "creneau_plan_starter"}).data) == 5
