"""Session fixtures: two tenants (alpha, beta) created once, through the real provisioning path.

Tests run inside a transaction rolled back at the end (the `db` fixture). Never use pytest-django's
`transactional_db` / `live_server`: their flush truncates the public schema's tenant rows. Tests
that need committed data (threads, workers, real servers) use `committed_db` and clean up what
they create.
"""

import pytest
from django.db import connection

from tenants.models import Tenant
from tenants.roles import Role
from tenants.services import tenant_provision

from .factories import PASSWORD

SESSION_TENANTS = {
    "alpha": dict(name="Alpha Studio", country="FR", currency="EUR", time_zone="Europe/Paris"),
    "beta": dict(name="Beta Gym", country="US", currency="USD", time_zone="America/New_York"),
}


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb,
                    django_db_createdb, django_db_modify_db_settings):  # fmt: skip
    """pytest-django's setup, except that the test database is always set up: its own version
    only does so when some collected test uses `db`, and `committed_db` alone would otherwise
    run against the development database."""
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=request.config.option.verbose, interactive=False, keepdb=keepdb,
            aliases={"default"},
        )  # fmt: skip
        assert connection.settings_dict["NAME"].startswith("test_")
        _create_session_tenants()
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=request.config.option.verbose)


def _create_session_tenants() -> None:
    for slug, fields in SESSION_TENANTS.items():
        if not Tenant.objects.filter(slug=slug).exists():
            tenant_provision(
                slug=slug,
                owner_email=f"owner@{slug}.test",
                owner_name=f"{fields['name']} Owner",
                owner_password=PASSWORD,
                **fields,
            )
    connection.set_schema_to_public()


@pytest.fixture
def tenant_alpha(db) -> Tenant:
    return Tenant.objects.get(slug="alpha")


@pytest.fixture
def tenant_beta(db) -> Tenant:
    return Tenant.objects.get(slug="beta")


@pytest.fixture
def owner_alpha(tenant_alpha):
    return tenant_alpha.memberships.get(role=Role.OWNER).user


@pytest.fixture
def owner_beta(tenant_beta):
    return tenant_beta.memberships.get(role=Role.OWNER).user


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Database access outside a test transaction: writes are committed and visible to other
    threads and processes. The test removes what it created."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()
