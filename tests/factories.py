"""Builders for test data: people, memberships, signed-in clients."""

import itertools

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.middleware import SESSION_SCHEMA_KEY
from tenants.models import Membership, Tenant, User

PASSWORD = "a-long-test-passphrase-42"
_sequence = itertools.count(1)


def make_user(*, email: str | None = None, name: str = "Test Person", **extra) -> User:
    email = email or f"person{next(_sequence)}@example.test"
    return User.objects.create_user(email=email, password=PASSWORD, full_name=name, **extra)


def make_member(tenant: Tenant, role: str, **user_fields) -> User:
    user = make_user(**user_fields)
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def totp_device(user: User) -> TOTPDevice:
    # two_factor only uses the device named "default".
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True)


def host_of(tenant: Tenant) -> str:
    return tenant.get_primary_domain().domain


def client_for(tenant: Tenant | None = None) -> Client:
    """A test client whose requests go to the tenant's host (or the platform host)."""
    return Client(HTTP_HOST=host_of(tenant) if tenant else "localhost")


def signed_in(client: Client, user: User, *, schema: str, verified: bool = False) -> Client:
    """Sign `user` in on `schema`'s host, as the login view would, optionally with 2FA verified."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[SESSION_SCHEMA_KEY] = schema
    if verified:
        device = TOTPDevice.objects.filter(user=user).first() or totp_device(user)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def member_client(tenant: Tenant, user: User, *, verified: bool = False) -> Client:
    return signed_in(client_for(tenant), user, schema=tenant.schema_name, verified=verified)
