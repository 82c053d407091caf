"""French and English: the catalogue is complete, and each employee reads their language.

English is the default; the language follows the employee's saved choice (Preferences, the
header's switcher), else the browser's Accept-Language.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from orders.services import update_customer_information
from tests.conftest import make_relationship

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
LIST = reverse("orders:sales-order-list")
# What is never copied into the scratch project: environments, data, build output.
NOT_SOURCE = (".git", ".venv*", "node_modules", "staticfiles", "db.sqlite3*", "__pycache__",
              ".pytest_cache", ".hypothesis", "*.pyc")


def need_gettext() -> None:
    if shutil.which("msgfmt") is None:
        if os.environ.get("CI"):
            pytest.fail("msgfmt (Debian's gettext package) is needed to check the catalogue")
        pytest.skip("msgfmt is missing (apt-get install gettext)")


# -- the catalogue ------------------------------------------------------------------------------


def test_every_message_of_the_code_and_templates_has_a_french_translation(tmp_path):
    """makemessages over a copy of the project, as a developer would run it: a message that
    has no French, or whose French is fuzzy, fails the suite and is named."""
    need_gettext()
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=copy, env=env, check=True, capture_output=True, timeout=120,
    )
    po = copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    stats = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(po)],
        capture_output=True, text=True, timeout=60,
    )
    assert stats.returncode == 0, stats.stderr
    gaps = subprocess.run(
        ["msgattrib", "--no-wrap", "--no-obsolete", "--only-fuzzy", str(po)],
        capture_output=True, text=True,
    ).stdout + subprocess.run(
        ["msgattrib", "--no-wrap", "--no-obsolete", "--untranslated", str(po)],
        capture_output=True, text=True,
    ).stdout
    assert "fuzzy" not in stats.stderr and "untranslated" not in stats.stderr, (
        f"{stats.stderr.strip()}: run `bash scripts/translations.sh` and fill in the French of\n"
        + gaps
    )


def test_the_compiled_catalogue_holds_exactly_the_french_of_the_po_file(tmp_path):
    """The .mo the app reads (committed, and rebuilt by the project's setup) is the .po's."""
    need_gettext()
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(PO)], check=True, timeout=60)
    with MO.open("rb") as committed, fresh.open("rb") as built:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(
            built
        )._catalog, "locale/fr/LC_MESSAGES/django.mo is stale: run bash scripts/translations.sh"


# -- which language a person reads --------------------------------------------------------------


@pytest.mark.django_db
def test_english_is_the_default(client, alice):
    client.force_login(alice)
    response = client.get(LIST)
    assert response["Content-Language"] == "en"
    assert "<h1>Sales orders" in response.content.decode()


@pytest.mark.django_db
def test_the_browsers_language_is_followed_when_the_employee_chose_none(client, alice):
    client.force_login(alice)
    response = client.get(LIST, headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"})
    html = response.content.decode()
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr">' in html
    assert "<h1>Commandes client" in html
    assert "Nouvelle commande client" in html


@pytest.mark.django_db
def test_the_login_page_follows_the_browser(client):
    html = client.get(reverse("login"), headers={"accept-language": "fr"}).content.decode()
    assert "<h1>Se connecter</h1>" in html


@pytest.mark.django_db
def test_the_employees_saved_language_wins_over_the_browser(client, alice):
    alice.language = "en"
    alice.save()
    client.force_login(alice)
    html = client.get(LIST, headers={"accept-language": "fr"}).content.decode()
    assert "<h1>Sales orders" in html


@pytest.mark.django_db
def test_the_header_switcher_saves_the_language_on_the_employee(client, alice):
    client.force_login(alice)
    page = client.get(LIST).content.decode()
    assert 'lang="fr">Français</button>' in page

    response = client.post(
        reverse("switch-language"), {"language": "fr"}, headers={"referer": LIST}
    )

    assert response.status_code == 302 and response["Location"] == LIST
    alice.refresh_from_db()
    assert alice.language == "fr"
    html = client.get(LIST, headers={"accept-language": "en"}).content.decode()
    assert "<h1>Commandes client" in html
    assert 'lang="en">English</button>' in html


@pytest.mark.django_db
def test_the_switcher_refuses_an_unknown_language_and_a_foreign_return_address(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("switch-language"), {"language": "xx", "next": "https://evil.example/"}
    )
    assert response["Location"] == LIST
    alice.refresh_from_db()
    assert alice.language == ""


@pytest.mark.django_db
def test_an_anonymous_visitor_switches_the_login_page_with_a_cookie(client):
    client.post(reverse("switch-language"), {"language": "fr"})
    assert "<h1>Se connecter</h1>" in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_preferences_save_language_and_time_zone(client, alice):
    client.force_login(alice)
    page = client.get(reverse("preferences")).content.decode()
    assert "Language and time zone" in page

    response = client.post(
        reverse("preferences"),
        {"section": "language", "language": "fr", "time_zone": "Europe/Berlin"},
        follow=True,
    )

    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("fr", "Europe/Berlin")
    html = response.content.decode()
    assert "Votre langue et votre fuseau horaire sont enregistrés." in html
    assert "(Europe/Berlin)" in html


@pytest.mark.django_db
def test_preferences_refuse_an_unknown_time_zone_and_change_nothing(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("preferences"),
        {"section": "language", "language": "fr", "time_zone": "Mars/Olympus_Mons"},
    )
    assert response.status_code == 400
    assert "Mars/Olympus_Mons" in response.content.decode()
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("", "")


# -- the French a clerk reads -------------------------------------------------------------------


@pytest.fixture
def french_alice(alice):
    alice.language = "fr"
    alice.save()
    return alice


@pytest.mark.django_db
def test_the_sync_explains_in_french_where_a_change_went_and_which_switch_stopped_it(
    client, french_alice, jonas, usmf, demf, external_customer
):
    from tests.conftest import make_three_legged_chain

    relationship = make_relationship(
        usmf, demf, purchase_policy_syncs_intercompany_sales_order=False
    )
    chain = make_three_legged_chain(
        employee=french_alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-1",
    )
    client.force_login(french_alice)
    url = reverse("orders:sales-order-edit", args=[chain.original.pk])
    response = client.post(
        url, {"customer_reference": "", "customer_requisition": "PO-2",
              "version": chain.fresh("original").version},
        follow=True,
    )
    html = response.content.decode()
    assert "USMF-SO-000001 enregistrée. Copié dans USMF-PO-000001." in html
    assert (
        "Non copié dans DEMF-SO-000001 : la stratégie de commande fournisseur de USMF a "
        "désactivé « Informations client, commande fournisseur intersociétés ↔ commande client "
        "intersociétés »." in html.replace("&laquo;", "«").replace("&raquo;", "»")
    )
    detail = client.get(reverse("orders:sales-order-detail", args=[chain.original.pk]))
    text = detail.content.decode()
    assert "commande client originale" in text
    assert "Numéro de bon de commande client" in text
    assert "Commandes de cette chaîne" in text


@pytest.mark.django_db
def test_the_history_reads_french(client, french_alice, chain_all_on, jonas):
    update_customer_information(
        order=chain_all_on.mirror, employee=jonas, customer_requisition="PO-7790"
    )
    client.force_login(french_alice)
    html = client.get(
        reverse("orders:sales-order-history", args=[chain_all_on.original.pk])
    ).content.decode()
    assert "copiée depuis la commande client intersociétés" in html
    assert "a remplacé PO-7781 saisi par Alice Martin (USMF)" in html


@pytest.mark.django_db
def test_the_csv_headers_are_french_for_a_french_employee(client, french_alice, chain_all_on):
    client.force_login(french_alice)
    response = client.get(reverse("orders:overwrites-csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Ancienne valeur saisie par" in body.splitlines()[0]


@pytest.mark.django_db
def test_the_admin_reads_french(client, admin, relationship):
    admin.language = "fr"
    admin.save()
    client.force_login(admin)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Relations commerciales" in index
    assert "Commandes client" in index
    change = client.get(
        reverse("admin:intercompany_tradingrelationship_change", args=[relationship.pk])
    ).content.decode()
    assert "Modification de relation commerciale" in change
    assert "Stratégie de commande fournisseur (société acheteuse)" in change
    orders = client.get(reverse("admin:orders_salesorder_changelist")).content.decode()
    assert "Sélectionnez l’objet commande client à changer" in orders


@pytest.mark.django_db
def test_the_demo_command_reports_in_french(db):
    out = StringIO()
    call_command("load_demo", language="fr", stdout=out)
    text = out.getvalue()
    assert "Connexions de démonstration (identifiant, mot de passe, rôle)" in text
    assert "préposé aux commandes, USMF" in text
    assert "remplacements entre sociétés" in text
