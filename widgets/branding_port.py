"""The Branding port of scheduling (scheduling/ports.py), answered from the business's Branding."""

from scheduling.ports import BusinessContact

from .origins import InvalidOrigin, normalise_origin
from .selectors import branding_get


class WidgetBranding:
    def contact(self) -> BusinessContact:
        branding = branding_get()
        return BusinessContact(
            address=branding.address,
            contact_phone=branding.contact_phone,
            contact_email=branding.contact_email,
        )

    def allowed_embedding_origin(self, claimed: str) -> str:
        try:
            origin = normalise_origin(claimed)
        except InvalidOrigin:
            return ""
        return origin if origin in branding_get().allowed_origins else ""
