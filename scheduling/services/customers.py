"""Writes of customers: one row per email per business, refreshed by later bookings."""

import phonenumbers
from django.db import IntegrityError, transaction

from scheduling.exceptions import InvalidCustomer
from scheduling.models import Customer


def customer_upsert(
    *, name: str, email: str, phone: str = "", marketing_consent: bool = False,
    region: str | None = None,
) -> Customer:  # fmt: skip
    """One customer per email per business; later bookings refresh name and phone."""
    name = name.strip()
    email = email.strip().lower()
    if not name or not email or "@" not in email:
        raise InvalidCustomer("A name and a valid email address are required.")
    if phone.strip():
        try:
            parsed = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            raise InvalidCustomer("This phone number is not valid.")
        if not phonenumbers.is_valid_number(parsed):
            raise InvalidCustomer("This phone number is not valid.")
        phone = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer is None:
        try:
            with transaction.atomic():
                return Customer.objects.create(
                    name=name, email=email, phone=phone, marketing_consent=marketing_consent
                )
        except IntegrityError:  # created concurrently by another booking
            customer = Customer.objects.get(email__iexact=email)
    changed = []
    if name and customer.name != name:
        customer.name = name
        changed.append("name")
    if phone and customer.phone != phone:
        customer.phone = phone
        changed.append("phone")
    if marketing_consent and not customer.marketing_consent:
        customer.marketing_consent = True
        changed.append("marketing_consent")
    if changed:
        customer.save(update_fields=changed)
    return customer
