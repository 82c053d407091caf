"""Personas and factories shared by every test file.

Personas: ``alice`` (clerk of USMF, company A), ``jonas`` (clerk of DEMF, company B),
``olga`` (outsider, clerk of GBSI, company C), ``admin`` (superuser). Companies: ``usmf``,
``demf``, ``gbsi``. ``relationship``: USMF buys from DEMF (every switch at its default).
"""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from intercompany.models import Company, Customer, Employee, Vendor
from intercompany.services import create_trading_relationship

pytest_plugins = [
    "tests.fixtures_web", "tests.fixtures_tasks", "tests.fixtures_mail", "tests.webhook_receiver",
]

_counter = itertools.count(1)

EVERY_SWITCH_ON = dict(
    purchase_policy_syncs_original_sales_order=True,
    purchase_policy_syncs_intercompany_sales_order=True,
    sales_policy_syncs_intercompany_purchase_order=True,
)


def pytest_configure(config):
    """Hashing every persona's password with the production hasher would dominate the suite's
    time; the tests check who may log in, not the hasher."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _let_sqlite_resets_pass_the_order_guards()


def _let_sqlite_resets_pass_the_order_guards():
    """Tests with ``transaction=True`` empty every table afterwards. PostgreSQL does it with
    TRUNCATE, which fires no row trigger; SQLite with DELETE, which the triggers refusing order
    deletion (orders/db_guards.py) would stop: drop them for the reset and put them back."""
    from django.db.backends.sqlite3.base import DatabaseOperations

    from orders import db_guards

    original = DatabaseOperations.sql_flush
    if getattr(original, "passes_order_guards", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        guarded = [table for table in db_guards.ORDER_TABLES if table in tables]
        if not guarded or not statements:
            return statements
        return [
            *db_guards.drop_statements("sqlite", guarded),
            *statements,
            *db_guards.create_statements("sqlite", guarded),
        ]

    sql_flush.passes_order_guards = True
    DatabaseOperations.sql_flush = sql_flush


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need row locks and parallel connections: skipped on SQLite.
    scripts/test.sh runs the suite on PostgreSQL as well, and under CI fails when it cannot."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
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


# -- order chains (sync, history, rollback, concurrency tests) --------------------------------


class ThreeLeggedChain:
    """Original sales order (buyer) -> intercompany purchase order (buyer) -> intercompany sales
    order (seller), as created through the services."""

    ROLES = ("original", "purchase", "mirror")

    def __init__(self, original, purchase, mirror, relationship):
        self.original = original
        self.purchase = purchase
        self.mirror = mirror
        self.relationship = relationship

    def order(self, role):
        return getattr(self, role)

    def fresh(self, role):
        """The order of ``role`` as stored now."""
        order = self.order(role)
        return type(order).objects.get(pk=order.pk)

    def values(self, field="customer_requisition"):
        return {role: getattr(self.fresh(role), field) for role in self.ROLES}


def make_three_legged_chain(*, employee, relationship, customer, **values) -> ThreeLeggedChain:
    from orders.models import SalesOrder
    from orders.services import create_intercompany_purchase_order, create_sales_order

    original = create_sales_order(
        employee=employee, company=relationship.buying_company, customer=customer, **values
    )
    purchase = create_intercompany_purchase_order(
        employee=employee, sales_order=original, vendor=relationship.intercompany_vendor
    )
    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)
    return ThreeLeggedChain(original, purchase, mirror, relationship)


def history_counts() -> dict[str, int]:
    """Rows in every history table of orders and relationships."""
    from intercompany.models import TradingRelationship
    from orders.models import PurchaseOrder, SalesOrder

    return {
        model.__name__: model.history.count()
        for model in (SalesOrder, PurchaseOrder, TradingRelationship)
    }


def order_state() -> dict:
    """Every stored order and history row, as plain values, to compare before and after."""
    from orders.models import NumberSequence, OrderChain, PurchaseOrder, SalesOrder

    state = {}
    for model in (SalesOrder, PurchaseOrder):
        state[model.__name__] = sorted(model.objects.values_list(), key=lambda row: row[0])
        state[f"{model.__name__} history"] = sorted(
            model.history.values_list(), key=lambda row: row[0]
        )
    state["chains"] = sorted(OrderChain.objects.values_list("pk", flat=True))
    state["sequences"] = sorted(NumberSequence.objects.values_list("company_id", "document",
                                                                   "last_value"))
    return state


def run_in_threads(workers: int, target, *, timeout: float = 120) -> list[BaseException]:
    """Run ``target(index, barrier)`` in ``workers`` threads, each on its own database
    connection (closed at thread end), and return the exceptions they raised."""
    import threading

    barrier = threading.Barrier(workers, timeout=60)
    errors: list[BaseException] = []

    def run(index):
        try:
            target(index, barrier)
        except BaseException as error:  # reported to the test, which asserts there are none
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors
