"""Reconciliation of members' subscriptions: a renewal whose webhooks never arrived is found by
`manage.py reconcile_memberships` (and the nightly beat task) and granted once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection

from memberships.membership_tasks import reconcile_memberships_in_every_tenant
from memberships.models import MembershipPeriod, MembershipStatus
from memberships.services.memberships import membership_join_returned

from .membership_helpers import advance, join_and_pay, membership_grants, new_clock, offer_on_sale


def test_a_lost_renewal_is_recorded_by_reconciliation_once(
    alpha_account, catalogue, customer, sdk, tenant_alpha
):
    offer = offer_on_sale([catalogue["service"]])
    clock = new_clock(sdk)
    membership = membership_join_returned(
        membership=join_and_pay(sdk, offer, customer, clock=clock)
    )
    advance(sdk, clock, membership.current_period_end + timedelta(hours=2))
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1  # no webhook

    out = StringIO()
    call_command("reconcile_memberships", "--tenant", tenant_alpha.slug, stdout=out)
    connection.set_tenant(tenant_alpha)
    assert f"membership {membership.pk}: 1 paid period(s) recorded" in out.getvalue()
    assert [g.credits_total for g in membership_grants(membership)] == [8, 8]

    assert reconcile_memberships_in_every_tenant() == {}  # nothing left to repair
    connection.set_tenant(tenant_alpha)
    assert MembershipPeriod.objects.filter(membership=membership).count() == 2
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
