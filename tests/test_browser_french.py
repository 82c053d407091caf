"""The main clerk flow in French, in headless Chromium: a browser that asks for French, a clerk
who chooses French with the header's switcher, each in their own time zone.

Same set-up as tests/test_browser_clerks.py (Debian's chromium driven by Playwright, the helpers of
tests/fixtures_web.py).
"""

from __future__ import annotations

import csv
import io
import zoneinfo

import pytest
from django.utils import timezone

from tests.conftest import make_relationship
from tests.fixtures_web import expect, field, log_in, message

pytestmark = pytest.mark.django_db(transaction=True)


def se_connecter(page, username: str) -> None:
    """Log in through the French login page."""
    page.goto("/accounts/login/")
    expect()(page.locator("h1")).to_have_text("Se connecter")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill("correct-horse-battery")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_the_chain_flow_in_french_with_each_clerks_time_zone(
    browser_page, live_server, alice, jonas, usmf, demf, external_customer
):
    alice.time_zone = "America/Chicago"
    alice.save()
    jonas.time_zone = "Europe/Berlin"
    jonas.save()
    make_relationship(usmf, demf, sales_policy_syncs_intercompany_purchase_order=True)

    # Alice's browser asks for French: every page answers in French.
    alice_page = browser_page(locale="fr-FR")
    se_connecter(alice_page, "alice")
    # A clerk lands on Needs attention (the alerts' landing page), then opens the sales orders.
    expect()(alice_page.locator("h1")).to_contain_text("À examiner")
    alice_page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Commandes client", exact=True).click()
    expect()(alice_page.locator("h1")).to_contain_text("Commandes client")
    alice_page.get_by_role("link", name="Nouvelle commande client").click()
    field(alice_page, "Client").select_option(label="US-001 Fabrikam Retail")
    field(alice_page, "Référence client").fill("Fabrikam printemps")
    field(alice_page, "Numéro de bon de commande client").fill("PO-7781")
    alice_page.get_by_role("button", name="Créer la commande client").click()
    expect()(message(alice_page)).to_contain_text("Création : commande client USMF-SO-000001.")
    field(alice_page, "Fournisseur intersociétés").select_option(
        label="IC-DEMF Contoso Germany (intersociétés : DEMF)"
    )
    alice_page.get_by_role("button", name="Créer la commande fournisseur intersociétés").click()
    expect()(message(alice_page)).to_contain_text(
        "Création : commande fournisseur intersociétés USMF-PO-000001 et commande client "
        "intersociétés DEMF-SO-000001."
    )
    panel = alice_page.get_by_test_id("intercompany-panel")
    expect()(panel).to_contain_text("commande client originale")
    expect()(panel).to_contain_text("Synchronisé")

    alice_page.get_by_role("link", name="Modifier les informations client").click()
    field(alice_page, "Numéro de bon de commande client").fill("PO-7782")
    alice_page.get_by_role("button", name="Enregistrer").click()
    expect()(message(alice_page)).to_have_text(
        "USMF-SO-000001 enregistrée. Copié dans USMF-PO-000001 et DEMF-SO-000001."
    )

    # Jonas reads English until he switches to French in the header; his choice is saved.
    jonas_page = browser_page(locale="en-GB")
    log_in(jonas_page, "jonas")
    expect()(jonas_page.locator("h1")).to_contain_text("Needs attention")
    jonas_page.get_by_role("button", name="Français").click()
    expect()(jonas_page.locator("h1")).to_contain_text("À examiner")
    jonas_page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Commandes client", exact=True).click()
    expect()(jonas_page.locator("h1")).to_contain_text("Commandes client")
    jonas.refresh_from_db()
    assert jonas.language == "fr"
    jonas_page.get_by_role("link", name="DEMF-SO-000001").click()
    expect()(jonas_page.get_by_text("saisi par Alice Martin (USMF)").last).to_be_visible()
    jonas_page.get_by_role("link", name="Modifier les informations client").click()
    field(jonas_page, "Numéro de bon de commande client").fill("PO-7790")
    jonas_page.get_by_role("button", name="Enregistrer").click()
    expect()(message(jonas_page)).to_contain_text("Copié dans USMF-PO-000001 et USMF-SO-000001")

    # Alice finds the overwrite in her History, times in her zone, the zone named.
    alice_page.reload()
    alice_page.get_by_role("link", name="Historique").click()
    expect()(alice_page.get_by_test_id("time-zone")).to_have_text(
        "Les heures sont en America/Chicago."
    )
    overwrite = alice_page.locator("tr.is-overwrite")
    expect()(overwrite).to_contain_text("a remplacé PO-7782 saisi par Alice Martin (USMF)")
    expect()(overwrite).to_contain_text("copiée depuis la commande client intersociétés")

    # The Overwrites page and its CSV, in French.
    alice_page.get_by_role("link", name="Remplacements").click()
    table = alice_page.get_by_test_id("overwrites")
    expect()(table.locator("tbody tr")).to_have_count(2)
    expect()(alice_page.locator("thead")).to_contain_text("America/Chicago")
    field(alice_page, "Champ").select_option(label="Référence client")
    alice_page.get_by_role("button", name="Filtrer").click()
    expect()(alice_page.locator(".empty")).to_contain_text(
        "Aucun remplacement entre sociétés ne correspond à ces filtres."
    )
    alice_page.get_by_role("link", name="Effacer").click()
    with alice_page.expect_download() as download_info:
        alice_page.get_by_role("link", name="Exporter en CSV").click()
    text = open(download_info.value.path(), encoding="utf-8-sig").read()
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
    rows = list(csv.reader(io.StringIO(text), dialect))
    assert rows[0][0] == "Date (America/Chicago)"
    assert "Ancienne valeur saisie par" in rows[0]
    assert sum("PO-7790" in row for row in rows) == 2


def test_preferences_change_the_language_and_the_clock_a_clerk_reads(
    browser_page, live_server, alice, chain
):
    page = browser_page()
    log_in(page, "alice")
    page.get_by_role("link", name="Alice Martin").click()
    expect()(page.locator("h1")).to_have_text("Preferences")
    field(page, "Language").select_option("fr")
    field(page, "Time zone").select_option("Asia/Tokyo")
    # The page has a Save of its own for the alerts section too.
    page.get_by_role("region", name="Language and time zone").get_by_role(
        "button", name="Save").click()
    expect()(message(page)).to_have_text("Votre langue et votre fuseau horaire sont enregistrés.")
    expect()(page.get_by_test_id("current-time")).to_contain_text("(Asia/Tokyo)")

    page.goto(f"/sales-orders/{chain.original.pk}/history/")
    expect()(page.get_by_test_id("time-zone")).to_have_text("Les heures sont en Asia/Tokyo.")
    shown = page.locator("table time").last  # the creation, the oldest entry
    created = chain.original.history.earliest("history_date").history_date
    assert shown.get_attribute("datetime").endswith("+09:00")
    local = timezone.localtime(created, timezone=zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%H:%M") in shown.inner_text()
