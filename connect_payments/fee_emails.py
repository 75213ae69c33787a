"""The customer's emails about a fee the bank wants them to authenticate: the first request and
the one reminder 48 hours later, each with the signed link to the page that pays it."""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.money import Money, format_money
from scheduling import ports
from tenants.context import current_tenant
from tenants.services import tenant_url

from .models import FeeCharge


def fee_pay_url(fee: FeeCharge) -> str:
    path = reverse("fee_pay", args=[fee.pk])
    return tenant_url(current_tenant(), f"{path}?{urlencode({'token': fee.pay_token})}")


def fee_payment_email(*, fee: FeeCharge, reminder: bool) -> EmailMultiAlternatives:
    tenant = current_tenant()
    contact = ports.branding().contact()
    booking = fee.booking
    context = {
        "business_name": tenant.name,
        "customer_name": booking.customer.name,
        "service_name": booking.service.name,
        "booking": booking,
        "fee_label": fee.get_kind_display().lower(),
        "amount": format_money(Money(fee.amount_minor, fee.currency)),
        "pay_url": fee_pay_url(fee),
        "reminder": reminder,
        "time_zone": tenant.time_zone or "UTC",
        "address": contact.address,
        "contact_phone": contact.contact_phone,
        "contact_email": contact.contact_email,
    }
    with timezone.override(ZoneInfo(tenant.time_zone or "UTC")):
        text = render_to_string("emails/fee_payment_request.txt", context)
    subject = (
        f"Reminder: your bank needs you to confirm the {context['fee_label']}"
        if reminder
        else f"Your bank needs you to confirm the {context['fee_label']}"
    )
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return EmailMultiAlternatives(
        subject=f"{subject} · {tenant.name}",
        body=text,
        from_email=formataddr((tenant.name, address)),
        to=[booking.customer.email],
        reply_to=[contact.contact_email] if contact.contact_email else [],
        headers={"Auto-Submitted": "auto-generated"},
    )
