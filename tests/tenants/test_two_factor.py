"""Second factor before sensitive pages; lockout after repeated failed sign-ins."""

import pytest
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, client_for, make_member, member_client, totp_device

SENSITIVE = ["/payments/", "/branding/", "/team/", "/payouts/", "/billing/"]


@pytest.mark.parametrize("path", SENSITIVE)
def test_owner_without_device_is_sent_to_enrolment(tenant_alpha, owner_alpha, path):
    response = member_client(tenant_alpha, owner_alpha).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two_factor/setup/?next=")


def test_owner_with_unverified_device_is_asked_for_a_code(tenant_alpha, owner_alpha):
    totp_device(owner_alpha)
    response = member_client(tenant_alpha, owner_alpha).get("/payments/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/verify/?next=")


def test_manager_without_device_cannot_open_team_page(tenant_alpha):
    manager = make_member(tenant_alpha, "manager")
    assert member_client(tenant_alpha, manager).get("/team/").status_code == 302


def test_non_sensitive_pages_do_not_need_a_second_factor(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha)
    assert client.get("/").status_code == 200
    assert client.get("/calendar/").status_code == 200


def _totp_now(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_full_login_with_totp_then_money_page_opens(tenant_alpha, owner_alpha):
    device = totp_device(owner_alpha)
    client = client_for(tenant_alpha)
    step1 = client.post(
        "/account/login/",
        {
            "login_view-current_step": "auth",
            "auth-username": owner_alpha.email,
            "auth-password": PASSWORD,
        },
    )
    assert step1.status_code == 200  # asks for the token
    assert b"token" in step1.content.lower()
    step2 = client.post(
        "/account/login/",
        {"login_view-current_step": "token", "token-otp_token": _totp_now(device)},
    )
    assert step2.status_code == 302
    assert client.get("/payments/").status_code == 200


def test_verify_page_refuses_a_wrong_code(tenant_alpha, owner_alpha):
    device = totp_device(owner_alpha)
    client = member_client(tenant_alpha, owner_alpha)
    wrong = "000000" if _totp_now(device) != "000000" else "111111"
    bad = client.post(
        "/account/verify/?next=/payments/",
        {"otp_device": device.persistent_id, "otp_token": wrong},
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors
    assert client.get("/payments/").status_code == 302


def test_verify_page_accepts_a_valid_code(tenant_alpha, owner_alpha):
    device = totp_device(owner_alpha)
    client = member_client(tenant_alpha, owner_alpha)
    good = client.post(
        "/account/verify/?next=/payments/",
        {"otp_device": device.persistent_id, "otp_token": _totp_now(device)},
    )
    assert good.status_code == 302 and good["Location"] == "/payments/"
    assert client.get("/payments/").status_code == 200


def test_enrolment_page_is_reachable_by_any_member(tenant_alpha):
    staff = make_member(tenant_alpha, "staff")
    response = member_client(tenant_alpha, staff).get("/account/two_factor/setup/")
    assert response.status_code == 200


def test_repeated_failed_logins_lock_account_and_address(tenant_alpha, owner_alpha):
    cache.clear()
    client = client_for(tenant_alpha)

    def attempt(password: str):
        return client.post(
            "/account/login/",
            {
                "login_view-current_step": "auth",
                "auth-username": owner_alpha.email,
                "auth-password": password,
            },
            REMOTE_ADDR="203.0.113.9",
        )

    for _ in range(5):
        assert attempt("wrong-password").status_code in (200, 429)
    locked = attempt(PASSWORD)  # even the right password is refused while locked
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content
    # Another address can still sign in to the same account (no denial of service by lockout).
    other = client_for(tenant_alpha).post(
        "/account/login/",
        {
            "login_view-current_step": "auth",
            "auth-username": owner_alpha.email,
            "auth-password": PASSWORD,
        },
        REMOTE_ADDR="198.51.100.7",
    )
    assert other.status_code == 302


def test_sign_in_page_has_one_sign_in_button_and_no_wizard_buttons(tenant_alpha):
    page = client_for(tenant_alpha).get("/account/login/").content.decode()
    assert page.count('type="submit"') == 1 and ">Sign in</button>" in page
    assert "Sign in to Alpha Studio" in page
    for wizard_word in (">Next<", ">Back<", ">Cancel<"):
        assert wizard_word not in page
    platform = client_for().get("/account/login/")  # the operators' sign-in on the platform host
    assert platform.status_code == 200 and ">Sign in</button>" in platform.content.decode()


def test_wrong_password_is_a_clear_error_on_the_sign_in_page(tenant_alpha, owner_alpha):
    response = client_for(tenant_alpha).post(
        "/account/login/",
        {"login_view-current_step": "auth", "auth-username": owner_alpha.email,
         "auth-password": "not-the-password"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()


def test_code_step_offers_verify_and_back(tenant_alpha, owner_alpha):
    totp_device(owner_alpha)
    step = client_for(tenant_alpha).post(
        "/account/login/",
        {"login_view-current_step": "auth", "auth-username": owner_alpha.email,
         "auth-password": PASSWORD},
    )  # fmt: skip
    page = step.content.decode()
    assert "Enter your authentication code" in page
    assert ">Verify</button>" in page and 'value="auth"' in page and ">Back</button>" in page
    assert ">Next<" not in page
