"""The dashboard, the setup checklist and the Share panel in French: chosen by the browser's
Accept-Language (LocaleMiddleware), French words, French numbers and dates, the same figures as
in English; the English page keeps its words; the CSV stays English for machines."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.db.models import F
from django_tenants.utils import tenant_context

from scheduling.models import Booking
from tests.factories import member_client

from .conftest import WEEK, figure

NNBSP, NBSP = "\u202f", "\u00a0"  # money's thousands / before the symbol; Django's fr thousands

FRENCH = [
    "Comment va votre activité",
    "Réservations sur la période",
    "Taux d’absence",
    "Taux d’annulation tardive",
    "Compté selon l’heure du rendez-vous",
    "Chiffre d’affaires par jour",
    "Créneaux les plus demandés",
    "Prévision pour les 4 prochaines semaines",
    "Télécharger le CSV",
    "Tableau des données",
    "Réservations comptées selon",
    "lun. 23 mars 2026 – dim. 29 mars 2026, comparé au même nombre de jours juste avant.",
    '<th scope="row">lundi</th>',  # the heatmap's weekday, from Django's own catalogue
    '<th scope="row">lun. 23 mars</th>',  # a day of the revenue table
    "Mis à jour à {time}",  # the script's live line, translated server-side
]
ENGLISH = [
    "How the business is doing",
    "Bookings in the period",
    "No-show rate",
    "Counted by appointment time",
    "Revenue per day",
    "Popular slots",
    "Download CSV",
    "Data table",
    "Bookings count by",
    "compared with the same number of days just before",
    "Before:",
    "Monday",
    "Updated {time}",
    "Booked staff time",
]


@pytest.fixture
def owner(tenant_alpha, owner_alpha, dataset):
    return member_client(tenant_alpha, owner_alpha, verified=True)


def _page(client, language: str, path: str = "/", **params):
    response = client.get(path, {**WEEK, **params}, HTTP_ACCEPT_LANGUAGE=language)
    return response, html.unescape(response.content.decode())


def _chart_json(page: str, key: str) -> dict:
    found = re.search(rf'<script id="{key}" type="application/json">(.*?)</script>', page, re.S)
    assert found, key
    return json.loads(found.group(1))


def test_a_browser_asking_for_french_gets_the_french_dashboard(owner):
    response, page = _page(owner, "fr-FR,fr;q=0.9,en;q=0.5")
    assert response.status_code == 200 and response["Content-Language"] == "fr"
    for text in FRENCH:
        assert text in page, text
    for text in ENGLISH:
        assert text not in page, text
    dashboard = response.context["dashboard"]
    assert figure(dashboard, "Taux d’absence")["value"] == "33,3 %"  # 1/3
    assert figure(dashboard, "Taux d’annulation tardive")["value"] == "11,1 %"  # 1/9
    assert figure(dashboard, "Valeur moyenne d’une réservation")["value"] == f"23,57{NBSP}€"
    month = next(row for row in dashboard["revenue"] if row["label"] == "Ce mois-ci")
    assert {part["name"]: part["previous"] for part in month["parts"]}["gross"] == f"60,00{NBSP}€"
    # The chart library gets translated labels and French days from the server.
    revenue = _chart_json(page, "revenue-per-day")
    assert revenue["labels"][0] == "lun. 23 mars"
    assert [item["label"] for item in revenue["datasets"]] == [
        "Brut", "Remboursements", "Frais de plateforme", "Net"]  # fmt: skip
    weekly = _chart_json(page, "bookings-per-week")
    assert weekly["datasets"][0]["label"] == "Réservations"
    section = re.search(r'<section id="dashboard"[^>]*>', page, re.S)
    assert section and 'data-locale="fr"' in section.group(0) and 'lang="fr"' in section.group(0)


def test_thousands_follow_the_language_and_the_number_is_the_same(owner, tenant_alpha):
    with tenant_context(tenant_alpha):
        Booking.objects.update(price_minor=F("price_minor") * 1000)
    (fr_response, fr_page), (en_response, en_page) = (
        _page(owner, lang) for lang in ("fr", "en-GB")
    )
    french, english = fr_response.context["dashboard"], en_response.context["dashboard"]
    fr_value = figure(french, "Valeur moyenne d’une réservation")
    en_value = figure(english, "Average booking value")
    assert fr_value["raw"] == en_value["raw"] == pytest.approx(16500 * 1000 / 7)
    assert fr_value["value"] == f"23{NNBSP}571,43{NBSP}€"
    assert en_value["value"] == "€23,571.43"
    # The by-service table's booking value (Haircut: 4 × 30.00, × 1000).
    assert f'<th scope="row">Haircut</th><td>4</td><td>120{NBSP}000,00</td>' in fr_page
    assert '<th scope="row">Haircut</th><td>4</td><td>120,000.00</td>' in en_page


def test_every_figure_and_chart_counts_the_same_in_both_languages(owner):
    french, english = (
        _page(owner, language)[0].context["dashboard"] for language in ("fr", "en-GB")
    )
    assert [f["raw"] for f in french["figures"]] == [f["raw"] for f in english["figures"]]
    assert len(french["figures"]) == len(english["figures"]) == 11  # with the waitlist's two
    assert [[p["raw"] for p in row["parts"]] for row in french["revenue"]] == [
        [p["raw"] for p in row["parts"]] for row in english["revenue"]
    ]
    for fr_table, en_table in zip(french["charts"], english["charts"], strict=True):
        assert fr_table.key == en_table.key
        # Same cells; only the heatmap's weekday names are words (lundi / Monday).
        assert [row[1:] for row in fr_table.rows] == [row[1:] for row in en_table.rows]
        if fr_table.key != "popular-slots":  # the heatmap is a table, not a Chart.js chart
            assert [d["data"] for d in fr_table.chart["datasets"]] == [
                d["data"] for d in en_table.chart["datasets"]
            ]


def test_the_english_page_keeps_its_words_numbers_and_days(owner):
    response, page = _page(owner, "en-GB,en;q=0.8")
    assert response.status_code == 200 and response["Content-Language"] == "en"
    for text in ENGLISH:
        assert text in page, text
    assert (
        "Mon 23 Mar 2026 – Sun 29 Mar 2026, compared with the same number of days just before."
        in page
    )
    assert '<th scope="row">2026-03-23</th>' in page  # days of the tables stay ISO in English
    assert _chart_json(page, "revenue-per-day")["labels"][0] == "2026-03-23"
    dashboard = response.context["dashboard"]
    assert figure(dashboard, "No-show rate")["value"] == "33.3 %"
    assert figure(dashboard, "Average booking value")["value"] == "€23.57"
    for text in ("Réservations", "Comment va", "lundi", "Télécharger"):
        assert text not in page, text


def test_an_unsupported_or_missing_language_falls_back_to_english(owner):
    for header in ("de-DE,de;q=0.9", ""):
        response, page = _page(owner, header)
        assert response["Content-Language"] == "en" and "How the business is doing" in page


def test_the_language_cookie_wins_over_the_browser(owner):
    """LocaleMiddleware's order: the django_language cookie, then Accept-Language."""
    owner.cookies["django_language"] = "fr"
    _response, page = _page(owner, "en-GB")
    assert "Comment va votre activité" in page


def test_the_csv_stays_english_for_machines(owner):
    expected = {"by-service": "Service,Bookings,Booking value",
                "revenue-per-day": "Day,Gross,Refunds,Platform fees,Net"}  # fmt: skip
    for key, first_line in expected.items():
        french = _page(owner, "fr", f"/dashboard/{key}.csv")[0].content.decode()
        english = _page(owner, "en-GB", f"/dashboard/{key}.csv")[0].content.decode()
        assert french == english and french.splitlines()[0] == first_line
    slots = _page(owner, "fr", "/dashboard/popular-slots.csv")[0].content.decode()
    assert "\nMonday," in slots and "lundi" not in slots
    assert "2026-03-23," in _page(owner, "fr", "/dashboard/revenue-per-day.csv")[0].content.decode()


def test_a_bad_query_is_explained_in_french(owner):
    response, page = _page(owner, "fr", period="year")
    assert response.status_code == 400
    assert "« period » doit valoir l’une de ces valeurs : week, month, custom." in page
    assert "Afficher cette semaine" in page


def test_the_fragment_of_the_live_refresh_is_french_too(owner):
    response, page = _page(owner, "fr", "/dashboard/fragment/")
    assert response.status_code == 200 and "Comment va votre activité" in page
    assert "How the business is doing" not in page


def test_the_setup_checklist_and_share_panel_in_french(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    page = html.unescape(client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    for text in ("Configurez votre activité", "7 étapes sur 7 restantes.",
                 "Ajouter une prestation", "Définir vos horaires d’ouverture",
                 "Je travaille seul·e", "Masquer la liste", "(à faire)",
                 "Votre page de réservation", "Télécharger le QR code"):  # fmt: skip
        assert text in page, text
    for text in ("Set up your business", "steps left", "Add a service", "I work alone",
                 "Hide the checklist", "Download the QR code"):  # fmt: skip
        assert text not in page, text
    share = html.unescape(client.get("/share/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "Partagez votre page de réservation" in share and "QR code de http" in share
    # (The site's navigation, base.html, is not the share panel's and still says it in English.)
    assert "<h1>Share your booking page</h1>" not in share and "Customers book and pay" not in share
