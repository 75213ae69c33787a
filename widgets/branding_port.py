"""The Branding port of scheduling (scheduling/ports.py), answered from the business's Branding."""

from scheduling.ports import BusinessContact

from .selectors import branding_get


class WidgetBranding:
    def contact(self) -> BusinessContact:
        branding = branding_get()
        return BusinessContact(
            address=branding.address,
            contact_phone=branding.contact_phone,
            contact_email=branding.contact_email,
        )
