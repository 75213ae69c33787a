"""The hosted booking page links to the business's passes and memberships only while some are
on sale (drafts and retired offers are not), in the page's language; an embed opens them in a
new tab."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import tenant_context

from memberships.models import MembershipOffer, MembershipOfferStatus
from memberships.services.memberships import OfferTerms, membership_offer_create
from tests.factories import host_of
from tests.scheduling.conftest import build_catalogue

from .test_passes import make_offer


def book_page(tenant, **params) -> str:
    response = Client(HTTP_HOST=host_of(tenant)).get("/book/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_no_link_while_nothing_is_on_sale(tenant_alpha):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        terms = OfferTerms(name="Gold", price_minor=6000, currency="eur", interval="month",
                           credits_per_period=8)  # fmt: skip
        membership_offer_create(terms=terms, service_ids=[catalogue["service"].pk])  # a draft
    assert 'id="cr-offers"' not in book_page(tenant_alpha)


def test_links_to_the_passes_and_memberships_on_sale(tenant_alpha):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        make_offer(catalogue)  # a pass on sale (no Stripe call until someone buys it)
    html = book_page(tenant_alpha)
    assert 'id="cr-offers-passes"' in html and 'href="/my/passes/"' in html
    assert 'id="cr-offers-memberships"' not in html
    with tenant_context(tenant_alpha):
        terms = OfferTerms(name="Gold", price_minor=6000, currency="eur", interval="month",
                           credits_per_period=8)  # fmt: skip
        offer = membership_offer_create(terms=terms, service_ids=[catalogue["service"].pk])
        # Publishing creates its Stripe Product and Price; the link only needs the status.
        MembershipOffer.objects.filter(pk=offer.pk).update(status=MembershipOfferStatus.ON_SALE)
    html = book_page(tenant_alpha, lang="fr", mode="inline")
    assert 'href="/my/memberships/"' in html and 'target="_blank"' in html
    assert "Devenir membre" in html
