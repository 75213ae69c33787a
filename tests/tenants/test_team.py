"""Invitations (signed, expiring, single use), role changes, deactivation, password reset."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tenants import services
from tenants.exceptions import InvitationInvalid, RoleChangeRefused
from tenants.models import AuditEntry, Invitation, Membership, User
from tests.factories import PASSWORD, client_for, make_member, member_client


def _invite(client, email: str, role: str):
    return client.post("/team/", {"action": "invite", "email": email, "role": role})


def _link_path(message) -> str:
    url = re.search(r"http://\S+/invite/\S+/", message.body).group(0)
    return url.split("localhost", 1)[1]


def test_owner_invites_by_email_and_new_person_joins_once(
    tenant_alpha, owner_alpha, django_capture_on_commit_callbacks
):
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(owner, "new.hire@example.test", "front_desk")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.hire@example.test"]
    assert "Alpha Studio" in message.subject
    path = _link_path(message)

    newcomer = client_for(tenant_alpha)
    page = newcomer.get(path)
    assert page.status_code == 200 and b"Front desk" in page.content
    joined = newcomer.post(path, {"full_name": "New Hire", "password": PASSWORD})
    assert joined.status_code == 302
    membership = Membership.objects.get(user__email="new.hire@example.test", tenant=tenant_alpha)
    assert membership.role == "front_desk"
    assert newcomer.get("/bookings/").status_code == 200  # signed in, front desk can see bookings

    reused = client_for(tenant_alpha).get(path)
    assert reused.status_code == 400
    assert b"already been used" in reused.content
    assert AuditEntry.objects.filter(action="creneau.team.joined", tenant=tenant_alpha).exists()


def test_expired_invitation_is_refused(tenant_alpha, owner_alpha):
    owner_membership = tenant_alpha.memberships.get(user=owner_alpha)
    invitation = services.invitation_create(
        tenant=tenant_alpha, actor_membership=owner_membership, email="late@example.test",
        role="staff",
    )  # fmt: skip
    token = services.invitation_token(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    response = client_for(tenant_alpha).get(f"/invite/{token}/")
    assert response.status_code == 400 and b"expired" in response.content


def test_tampered_or_foreign_invitation_link_is_refused(tenant_alpha, tenant_beta, owner_alpha):
    owner_membership = tenant_alpha.memberships.get(user=owner_alpha)
    invitation = services.invitation_create(
        tenant=tenant_alpha, actor_membership=owner_membership, email="x@example.test", role="staff"
    )
    token = services.invitation_token(invitation)
    assert client_for(tenant_alpha).get(f"/invite/{token[:-2]}xx/").status_code == 400
    # A valid alpha link opened on beta's host is not beta's invitation.
    assert client_for(tenant_beta).get(f"/invite/{token}/").status_code == 400


def test_manager_cannot_invite_a_manager_or_owner(tenant_alpha):
    manager = make_member(tenant_alpha, "manager")
    client = member_client(tenant_alpha, manager, verified=True)
    response = _invite(client, "boss@example.test", "owner")
    assert response.status_code == 400
    assert not Invitation.objects.filter(email="boss@example.test").exists()
    assert _invite(client, "desk@example.test", "front_desk").status_code == 302


def test_owner_changes_role_and_it_is_audited(tenant_alpha, owner_alpha):
    staff = make_member(tenant_alpha, "staff")
    membership = Membership.objects.get(user=staff, tenant=tenant_alpha)
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    response = client.post(
        "/team/", {"action": "role", "membership": membership.pk, "role": "manager"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "manager"
    entry = AuditEntry.objects.get(action="creneau.team.role_changed", tenant=tenant_alpha)
    assert entry.actor == owner_alpha and entry.data == {
        "member": staff.email, "from": "staff", "to": "manager"
    }  # fmt: skip


def test_last_owner_cannot_be_demoted_or_deactivated(tenant_alpha, owner_alpha):
    owner_membership = tenant_alpha.memberships.get(user=owner_alpha)
    with pytest.raises(RoleChangeRefused, match="at least one owner"):
        services.membership_change_role(
            actor_membership=owner_membership, membership=owner_membership, role="manager"
        )
    second_owner = make_member(tenant_alpha, "owner")
    second_membership = tenant_alpha.memberships.get(user=second_owner)
    services.membership_change_role(
        actor_membership=second_membership, membership=owner_membership, role="manager"
    )
    owner_membership.refresh_from_db()
    assert owner_membership.role == "manager"
    with pytest.raises(RoleChangeRefused):
        services.membership_deactivate(
            actor_membership=second_membership, membership=second_membership
        )


def test_deactivated_member_keeps_rows_and_loses_access(tenant_alpha, owner_alpha):
    staff = make_member(tenant_alpha, "staff")
    membership = Membership.objects.get(user=staff, tenant=tenant_alpha)
    staff_client = member_client(tenant_alpha, staff)
    assert staff_client.get("/calendar/").status_code == 200
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    response = owner.post("/team/", {"action": "deactivate", "membership": membership.pk})
    assert response.status_code == 302
    assert User.objects.filter(pk=staff.pk).exists()
    membership.refresh_from_db()
    assert membership.is_active is False and membership.deactivated_at is not None
    assert staff_client.get("/calendar/").status_code == 404
    owner.post("/team/", {"action": "reactivate", "membership": membership.pk})
    assert staff_client.get("/calendar/").status_code == 200


def test_manager_cannot_deactivate_owner(tenant_alpha, owner_alpha):
    manager = make_member(tenant_alpha, "manager")
    owner_membership = tenant_alpha.memberships.get(user=owner_alpha)
    client = member_client(tenant_alpha, manager, verified=True)
    response = client.post("/team/", {"action": "deactivate", "membership": owner_membership.pk})
    assert response.status_code == 400
    owner_membership.refresh_from_db()
    assert owner_membership.is_active


def test_invitation_accept_requires_matching_signed_in_user(tenant_alpha, owner_alpha):
    owner_membership = tenant_alpha.memberships.get(user=owner_alpha)
    invitation = services.invitation_create(
        tenant=tenant_alpha, actor_membership=owner_membership, email="a@example.test", role="staff"
    )
    someone_else = make_member(tenant_alpha, "staff")
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(invitation=invitation, user=someone_else)


def test_password_reset_by_email(tenant_alpha, owner_alpha):
    client = client_for(tenant_alpha)
    response = client.post("/account/password_reset/", {"email": owner_alpha.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://alpha\.localhost(/account/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "brand-new-passphrase-9", "new_password2": "brand-new-passphrase-9"},
    )
    assert done.status_code == 302
    owner_alpha.refresh_from_db()
    assert owner_alpha.check_password("brand-new-passphrase-9")
