"""Personas and factories shared by every test file.

Personas: ``alice`` (clerk of USMF, company A), ``jonas`` (clerk of DEMF, company B),
``olga`` (outsider, clerk of GBSI, company C), ``admin`` (superuser). Companies: ``usmf``,
``demf``, ``gbsi``. ``relationship``: USMF buys from DEMF (every switch at its default).
"""

from __future__ import annotations

import itertools
import os

import pytest
from django.db import connection

from intercompany.models import Company, Customer, Employee, Vendor
from intercompany.services import create_trading_relationship

pytest_plugins = ["tests.fixtures_web"]

_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need row locks and parallel connections: skipped on SQLite,
    except under CI, where running without PostgreSQL is an error (see .ci/run)."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run the tests on PostgreSQL (set DATABASE_URL).")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


# -- factories ---------------------------------------------------------------------------------


def make_company(code: str | None = None, name: str | None = None) -> Company:
    code = code or f"C{next(_counter):03d}"
    return Company.objects.create(code=code, name=name or f"Company {code}")


def make_employee(username: str, *companies: Company, first="", last="", **extra) -> Employee:
    employee = Employee.objects.create_user(
        username=username, password="correct-horse-battery", first_name=first, last_name=last,
        **extra,
    )
    employee.companies.add(*companies)
    return employee


def make_customer(company: Company, account: str | None = None, name: str = "Customer") -> Customer:
    return Customer.objects.create(
        company=company, account=account or f"CUS-{next(_counter):04d}", name=name
    )


def make_vendor(company: Company, account: str | None = None, name: str = "Vendor") -> Vendor:
    return Vendor.objects.create(
        company=company, account=account or f"VEN-{next(_counter):04d}", name=name
    )


def make_relationship(buyer: Company, seller: Company, **switches):
    return create_trading_relationship(buying_company=buyer, selling_company=seller, **switches)


# -- personas ----------------------------------------------------------------------------------


@pytest.fixture
def usmf(db):
    return make_company("USMF", "Contoso Entertainment USA")


@pytest.fixture
def demf(db):
    return make_company("DEMF", "Contoso Germany")


@pytest.fixture
def gbsi(db):
    return make_company("GBSI", "Contoso UK")


@pytest.fixture
def alice(usmf):
    return make_employee("alice", usmf, first="Alice", last="Martin")


@pytest.fixture
def jonas(demf):
    return make_employee("jonas", demf, first="Jonas", last="Weber")


@pytest.fixture
def olga(gbsi):
    return make_employee("olga", gbsi, first="Olga", last="Smith")


@pytest.fixture
def admin(db):
    return Employee.objects.create_superuser(
        username="admin", password="correct-horse-battery", first_name="Ada", last_name="Admin"
    )


@pytest.fixture
def external_customer(usmf):
    return make_customer(usmf, "US-001", "Fabrikam Retail")


@pytest.fixture
def relationship(usmf, demf):
    """USMF buys from DEMF, with the switches at their defaults."""
    return make_relationship(usmf, demf)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
