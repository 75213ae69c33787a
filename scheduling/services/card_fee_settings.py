"""Writes of the card-on-file settings: a service's and the business's default no-show and
late-cancellation fees (stored here, charged by connect_payments: services/card_fees.py).

Raise django's ValidationError keyed by the form field to blame, like the catalogue's writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from scheduling.models import CardOnFile, PaymentMode, SchedulingSettings, Service
from scheduling.services.bookings import scheduling_settings

ONLINE_MODES = (PaymentMode.ONLINE_FULL, PaymentMode.ONLINE_DEPOSIT)


@dataclass(frozen=True)
class CardFees:
    """Each fee as a fixed amount (minor units) or a percentage of the price, or neither."""

    no_show_fee_fixed_minor: int | None = None
    no_show_fee_percent: int | None = None
    late_cancel_fee_fixed_minor: int | None = None
    late_cancel_fee_percent: int | None = None

    def columns(self) -> dict[str, int | None]:
        return {
            "no_show_fee_fixed_minor": self.no_show_fee_fixed_minor,
            "no_show_fee_percent": self.no_show_fee_percent,
            "late_cancel_fee_fixed_minor": self.late_cancel_fee_fixed_minor,
            "late_cancel_fee_percent": self.late_cancel_fee_percent,
        }

    @property
    def any(self) -> bool:
        return any(value for value in self.columns().values())


def _check(fees: CardFees) -> dict[str, str]:
    errors: dict[str, str] = {}
    for fee in ("no_show", "late_cancel"):
        fixed = getattr(fees, f"{fee}_fee_fixed_minor")
        percent = getattr(fees, f"{fee}_fee_percent")
        if fixed is not None and percent is not None:
            errors[f"{fee}_fee_kind"] = "Give the fee either as an amount or as a percentage."
        elif fixed is not None and fixed <= 0:
            errors[f"{fee}_fee_amount"] = "The fee must be more than zero."
        elif percent is not None and not 1 <= percent <= 100:
            errors[f"{fee}_fee_percent"] = "Between 1 and 100 % of the price."
    return errors


def _has_full_refund_window(policy: object) -> bool:
    return isinstance(policy, list) and any(
        isinstance(tier, dict)
        and tier.get("refund_percent") == 100
        and isinstance(tier.get("hours_before"), int)
        and tier["hours_before"] > 0
        for tier in policy
    )


def service_card_fees_update(*, service: Service, card_on_file: str, fees: CardFees) -> Service:
    """A service follows the business default, asks for a card with its own fees, or not."""
    errors = _check(fees) if card_on_file == CardOnFile.REQUIRED else {}
    if card_on_file not in CardOnFile.values:
        errors["card_on_file"] = "Choose whether this service asks for a card."
    elif card_on_file == CardOnFile.REQUIRED:
        if service.payment_mode in ONLINE_MODES:
            errors["card_on_file"] = (
                "A service paid online takes its money at booking: a card on file is for "
                "services paid at the venue or free."
            )
        elif not fees.any:
            errors["no_show_fee_kind"] = "Set a no-show fee or a late-cancellation fee."
        if (fees.late_cancel_fee_fixed_minor or fees.late_cancel_fee_percent) and not (
            _has_full_refund_window(service.cancellation_policy)
        ):
            errors["late_cancel_fee_kind"] = (
                "The late window is the cancellation policy's: add a tier refunding 100 % at "
                "least so many hours before the start (e.g. 24 hours)."
            )
    if errors:
        raise ValidationError(errors)
    kept = fees if card_on_file == CardOnFile.REQUIRED else CardFees()
    with transaction.atomic():
        Service.objects.filter(pk=service.pk).update(card_on_file=card_on_file, **kept.columns())
    service.refresh_from_db()
    return service


def business_card_fees_update(*, required: bool, fees: CardFees) -> SchedulingSettings:
    """The default of every service set to "as the business default" (each service's own
    cancellation policy gives its late window; without one, no late fee applies to it)."""
    errors = _check(fees)
    if required and not fees.any:
        errors["no_show_fee_kind"] = "Set a no-show fee or a late-cancellation fee."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = SchedulingSettings.objects.select_for_update().get(pk=scheduling_settings().pk)
        row.card_on_file_required = required
        for name, value in (fees if required else CardFees()).columns().items():
            setattr(row, name, value)
        row.save()
    return row
