"""Widgets answers scheduling's Branding port (scheduling.ports) from the business's Branding."""

from django_tenants.utils import tenant_context

from scheduling import ports
from widgets.branding_port import WidgetBranding
from widgets.selectors import branding_get
from widgets.services import branding_update


def test_widgets_registered_its_branding_at_start_up():
    assert isinstance(ports.branding(), WidgetBranding)


def test_contact_lines_are_the_current_business_s(tenant_alpha, tenant_beta):
    with tenant_context(tenant_alpha):
        branding_update(
            branding=branding_get(),
            fields={"address": "1 rue de la Paix, Paris", "contact_phone": "+33 1 23 45 67 89",
                    "contact_email": "hello@alpha.test"},
        )  # fmt: skip
        assert ports.branding().contact() == ports.BusinessContact(
            address="1 rue de la Paix, Paris",
            contact_phone="+33 1 23 45 67 89",
            contact_email="hello@alpha.test",
        )
    with tenant_context(tenant_beta):
        assert ports.branding().contact() == ports.BusinessContact()


def test_without_a_registration_the_default_has_no_contact_lines():
    assert ports.NoBranding().contact() == ports.BusinessContact()
