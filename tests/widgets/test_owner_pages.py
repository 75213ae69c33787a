"""The owner's branding and embed pages: permission, validation, saving, warnings."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from tenants.roles import Role
from tests.factories import make_member, member_client
from widgets.models import Branding

from .images import png

VALID = {
    "primary_colour": "#2f5d50",
    "accent_colour": "#b3541e",
    "font_family": "system",
    "corner_style": "rounded",
    "button_label": "",
    "default_language": "en",
    "welcome_text": "",
    "address": "",
    "contact_phone": "",
    "contact_email": "",
}


@pytest.fixture
def owner(tenant_alpha, owner_alpha):
    return member_client(tenant_alpha, owner_alpha, verified=True)


def _branding(tenant) -> Branding:
    with tenant_context(tenant):
        return Branding.objects.get()


def test_branding_needs_a_manager_with_a_verified_second_factor(tenant_alpha, owner_alpha):
    unverified = member_client(tenant_alpha, owner_alpha, verified=False).get("/branding/")
    assert unverified.status_code == 302
    assert unverified["Location"].startswith(("/account/verify/", "/account/two_factor/setup/"))
    desk = make_member(tenant_alpha, Role.FRONT_DESK)
    assert member_client(tenant_alpha, desk, verified=True).get("/branding/").status_code == 403
    for path in ("/branding/", "/embed/"):
        assert member_client(tenant_alpha, owner_alpha, verified=True).get(path).status_code == 200


def test_branding_is_saved_with_a_logo(tenant_alpha, owner):
    data = {**VALID, "primary_colour": "#7A1F5C", "welcome_text": "Hello",
            "logo_file": SimpleUploadedFile("logo.png", png(64, 32), "image/png")}  # fmt: skip
    response = owner.post("/branding/", data)
    assert response.status_code == 302
    branding = _branding(tenant_alpha)
    assert branding.primary_colour == "#7a1f5c" and branding.welcome_text == "Hello"
    assert (branding.logo_content_type, branding.logo_width, branding.logo_height) == (
        "image/png", 64, 32,
    )  # fmt: skip
    page = owner.get("/branding/").content.decode()
    assert f"/widget/logo/{branding.logo_version}/" in page and 'id="cr-preview"' in page


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("logo.png", b"not an image at all, sorry"), "not a PNG or JPEG"),
        (("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "SVG logos are not accepted"),
        (("big.png", png(2400, 100)), "at most 2000×2000"),
    ],
)
def test_a_bad_logo_is_refused_with_a_clear_error(tenant_alpha, owner, upload, message):
    name, content = upload
    response = owner.post("/branding/", {**VALID, "logo_file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(tenant_alpha):
        assert not Branding.objects.filter(logo_version__gt="").exists()


def test_a_bad_colour_is_refused(tenant_alpha, owner):
    response = owner.post("/branding/", {**VALID, "accent_colour": "orange"})
    assert response.status_code == 400
    assert "Enter a colour as #rrggbb" in response.content.decode()


def test_a_colour_failing_wcag_aa_is_saved_with_a_warning(tenant_alpha, owner):
    response = owner.post("/branding/", {**VALID, "primary_colour": "#f4a261"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Primary colour: contrast" in page and "below the 4.5:1 that WCAG AA asks for" in page
    assert _branding(tenant_alpha).primary_colour == "#f4a261"
    calm = owner.post("/branding/", VALID, follow=True).content.decode()
    assert "WCAG AA asks for" not in calm


def test_embed_page_shows_the_snippet_and_hosted_links(tenant_alpha, owner):
    page = owner.get("/embed/").content.decode()
    assert (
        '&lt;script src="http://localhost/widget.js" data-creneau="alpha" data-mode="inline"'
        in page
    )
    assert "http://alpha.localhost/book/" in page


def test_allowed_websites_are_validated_and_normalised(tenant_alpha, owner):
    bad = owner.post("/embed/", {"allowed_origins": "https://ok.example\nexample.com/booking"})
    assert bad.status_code == 400
    assert "write the full address with http:// or https://" in bad.content.decode()
    good = owner.post("/embed/", {"allowed_origins": "HTTPS://Salon.example:443/\n\n"
                                  "http://localhost:3000"})  # fmt: skip
    assert good.status_code == 302
    assert _branding(tenant_alpha).allowed_origins == [
        "https://salon.example", "http://localhost:3000",
    ]  # fmt: skip
