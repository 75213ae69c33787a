"""Card-on-file settings in the back office: a service's own fees (fixed or a percentage), the
business default, and the refusals (a service paid online, a late fee without a late window)."""

import pytest

from scheduling.models import CardOnFile, SchedulingSettings, Service
from tenants.roles import Role
from tests.factories import make_member, member_client
from tests.scheduling.test_catalogue_pages import service_data


@pytest.fixture
def manager(alpha, tenant_alpha):
    return member_client(tenant_alpha, make_member(tenant_alpha, Role.MANAGER), verified=True)


def fees(**values) -> dict:
    return {f"fees-{name}": value for name, value in values.items()}


def test_service_asks_for_a_card_with_its_own_fees(manager, alpha):
    data = service_data(
        payment_mode="pay_at_venue", deposit_kind="", deposit_amount="",
        **fees(card_on_file="required", no_show_fee_kind="fixed", no_show_fee_amount="20",
               late_cancel_fee_kind="percent", late_cancel_fee_percent="50"),
    )  # fmt: skip

    response = manager.post("/services/new/", data)

    assert response.status_code == 302, response.context and response.context["fees_form"].errors
    service = Service.objects.get(name="Cut and colour")
    assert service.card_on_file == CardOnFile.REQUIRED
    assert (service.no_show_fee_fixed_minor, service.no_show_fee_percent) == (2000, None)
    assert (service.late_cancel_fee_fixed_minor, service.late_cancel_fee_percent) == (None, 50)
    assert 'value="20.00"' in manager.get(f"/services/{service.pk}/").content.decode()


def test_service_paid_online_cannot_ask_for_a_card(manager, alpha):
    data = service_data(**fees(card_on_file="required", no_show_fee_kind="fixed",
                               no_show_fee_amount="20"))  # fmt: skip

    response = manager.post("/services/new/", data)

    assert response.status_code == 400
    assert "card_on_file" in response.context["fees_form"].errors
    assert not Service.objects.filter(name="Cut and colour").exists()  # nothing half-written


def test_late_fee_needs_a_full_refund_tier(manager, alpha):
    data = service_data(
        tiers=(("24", "50"), ("", ""), ("", "")), payment_mode="pay_at_venue", deposit_kind="",
        **fees(card_on_file="required", late_cancel_fee_kind="fixed",
               late_cancel_fee_amount="10"),
    )  # fmt: skip

    response = manager.post("/services/new/", data)

    assert response.status_code == 400
    assert "late_cancel_fee_kind" in response.context["fees_form"].errors


def test_business_default_fees_are_saved(manager, alpha):
    response = manager.post("/booking-settings/", {
        "hold_minutes": "10", "reference_prefix": "",
        **fees(card_on_file_required="on", no_show_fee_kind="percent", no_show_fee_percent="100"),
    })  # fmt: skip

    assert response.status_code == 302
    row = SchedulingSettings.objects.get()
    assert (row.card_on_file_required, row.no_show_fee_percent) == (True, 100)


def test_bad_fee_amount_is_a_form_error(manager, alpha):
    response = manager.post("/booking-settings/", {
        "hold_minutes": "10", "reference_prefix": "",
        **fees(card_on_file_required="on", no_show_fee_kind="fixed", no_show_fee_amount="abc"),
    })  # fmt: skip

    assert response.status_code == 400
    assert "no_show_fee_amount" in response.context["fees_form"].errors
    assert SchedulingSettings.objects.get().card_on_file_required is False
