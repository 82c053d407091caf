"""``python manage.py load_demo``: load a realistic demo group of three companies.

Companies USMF, DEMF and GBSI; their clerks and an administrator; external customers and vendors;
four trading relationships with different customer-information switches (one inactive); and a
few dozen orders made through the order services: three-legged chains, two-legged chains from
both sides, an A → B → C chain, one original sales order sourcing from two intercompany vendors,
cancelled orders, plain orders, and cross-company overwrites in the history.

Idempotent and safe on an existing database:

- companies, employees, customers, vendors and trading relationships are looked up by their
  natural keys (code, username, company + account, buying + selling company) and created only
  when missing; an existing record is never changed (an existing employee keeps their password
  and companies, an existing relationship keeps its switches) and is reported instead;
- the demo orders are created once, all in one transaction: if any order already uses one of the
  demo's external customer or vendor accounts, the demo orders are considered loaded and skipped.

Passwords are fixed and printed at the end (see ``DEMO_EMPLOYEES``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from intercompany.exceptions import IntercompanyError
from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from intercompany.services import create_trading_relationship
from orders.history import cross_company_overwrites
from orders.models import OrderChain, OrderStatus, PurchaseOrder, SalesOrder
from orders.services import (
    cancel_order,
    create_intercompany_purchase_order,
    create_purchase_order,
    create_sales_order,
    update_customer_information,
)

COMPANIES = (
    ("USMF", "Contoso Entertainment USA"),
    ("DEMF", "Contoso Germany"),
    ("GBSI", "Contoso UK"),
)
# Where each company's clerks work: their time zone in the demo (Preferences changes it).
COMPANY_TIME_ZONES = {"USMF": "America/Chicago", "DEMF": "Europe/Berlin", "GBSI": "Europe/London"}


@dataclass(frozen=True)
class DemoEmployee:
    username: str
    first_name: str
    last_name: str
    companies: tuple[str, ...]
    password: str
    is_superuser: bool = False

    @property
    def role(self) -> str:
        if self.is_superuser:
            return _("administrator (superuser, staff)")
        return _("order clerk, %(companies)s") % {"companies": _(" and ").join(self.companies)}

    @property
    def time_zone(self) -> str:
        """The zone of the clerk's (first) company; administrators keep the group's default."""
        return COMPANY_TIME_ZONES[self.companies[0]] if self.companies else ""


DEMO_EMPLOYEES = (
    DemoEmployee("alice", "Alice", "Martin", ("USMF",), "demo-alice-2026"),
    DemoEmployee("jonas", "Jonas", "Weber", ("DEMF",), "demo-jonas-2026"),
    DemoEmployee("priya", "Priya", "Shah", ("GBSI",), "demo-priya-2026"),
    DemoEmployee("sam", "Sam", "Okafor", ("USMF", "DEMF"), "demo-sam-2026"),
    DemoEmployee("admin", "Ada", "Admin", (), "demo-admin-2026", is_superuser=True),
)

CUSTOMERS = {
    "USMF": (
        ("US-001", "Fabrikam Retail"),
        ("US-002", "Forest Wholesales"),
        ("US-003", "Adventure Works Cycles"),
        ("US-004", "Northwind Traders"),
        ("US-005", "Trey Research"),
        ("US-006", "Adventure Works Retail"),
    ),
    "DEMF": (
        ("DE-001", "Bergmann Elektronik GmbH"),
        ("DE-002", "Kaufhaus Lindner AG"),
        ("DE-003", "Rhein Medien KG"),
    ),
    "GBSI": (
        ("GB-001", "Tailspin Toys Ltd"),
        ("GB-002", "Wingtip Retail plc"),
        ("GB-003", "Thames Audio Ltd"),
    ),
}

VENDORS = {
    "USMF": (("US-101", "Litware Components Inc."), ("US-102", "Lucerne Publishing")),
    "DEMF": (("DE-101", "Schneider Logistik GmbH"), ("DE-102", "Hoffmann Druck GmbH")),
    "GBSI": (("GB-101", "Proseware Ltd"), ("GB-102", "Pemberton Packaging Ltd")),
}

ALL_ON = {
    "purchase_policy_syncs_original_sales_order": True,
    "purchase_policy_syncs_intercompany_sales_order": True,
    "sales_policy_syncs_intercompany_purchase_order": True,
}
RECOMMENDED = {
    "purchase_policy_syncs_original_sales_order": True,
    "purchase_policy_syncs_intercompany_sales_order": True,
    "sales_policy_syncs_intercompany_purchase_order": False,
}
SELLER_ONLY = {
    "purchase_policy_syncs_original_sales_order": False,
    "purchase_policy_syncs_intercompany_sales_order": False,
    "sales_policy_syncs_intercompany_purchase_order": True,
}

# (buying company, selling company, active, switches, description)
RELATIONSHIPS = (
    ("USMF", "DEMF", True, ALL_ON, gettext_noop("every switch on")),
    ("USMF", "GBSI", True, RECOMMENDED, gettext_noop("the recommended buyer switches only")),
    ("DEMF", "GBSI", True, SELLER_ONLY, gettext_noop("only the seller's switch on")),
    ("GBSI", "USMF", False, RECOMMENDED, gettext_noop("inactive (closed trade route)")),
)


# -- The demo clock ------------------------------------------------------------------------------

_real_now = timezone.now


class DemoClock:
    """Business hours over the last few weeks, so that the history reads like real work.

    Each call returns a time one millisecond later than the previous one, so the rows one
    service call writes keep their order.
    """

    def __init__(self, today: date):
        self.today = today
        self.current: datetime | None = None

    def set(self, business_days_ago: int, at: str) -> None:
        day = self.today
        remaining = business_days_ago
        while remaining > 0:
            day -= timedelta(days=1)
            if day.weekday() < 5:
                remaining -= 1
        hour, minute = (int(part) for part in at.split(":"))
        moment = timezone.make_aware(datetime.combine(day, time(hour, minute)))
        if self.current is not None and moment <= self.current:
            raise ValueError(f"The demo clock cannot go back in time (to {moment}).")
        self.current = moment

    def now(self) -> datetime:
        if self.current is None:
            return _real_now()
        value = self.current
        self.current += timedelta(milliseconds=1)
        return value


@contextlib.contextmanager
def demo_clock() -> Iterator[DemoClock]:
    """Run the services with the clock of the demo story.

    Why patch the clock rather than rewrite dates afterwards: the services, the sync and
    django-simple-history all read ``django.utils.timezone.now()``, so every order, copy and
    history row gets its date the ordinary way and history stays consistent with the orders.
    """
    clock = DemoClock(timezone.localdate(_real_now()))
    with mock.patch.object(timezone, "now", clock.now):
        yield clock


# -- The command ---------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Load a demo group (USMF, DEMF, GBSI) with clerks, trading relationships, intercompany "
        "chains and cross-company overwrites. Idempotent: safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--language", default=None, choices=[code for code, _name in settings.LANGUAGES],
            help="Language of the report (default: LANGUAGE_CODE).",
        )

    def handle(self, *args, **options):
        with translation.override(options.get("language") or settings.LANGUAGE_CODE):
            self.load_and_report()

    def load_and_report(self) -> None:
        self.notes: list[str] = []
        with demo_clock() as clock:
            self.clock = clock
            with transaction.atomic():
                self.clock.set(25, "08:30")
                self.companies = self.load_companies()
                self.employees = self.load_employees()
                self.customers, self.vendors = self.load_accounts()
                self.relationships = self.load_relationships()
            try:
                with transaction.atomic():
                    # Why lock: two runs at once would both find no demo orders and load them
                    # twice. The second one waits here and then finds the first one's orders.
                    list(Company.objects.select_for_update().filter(
                        pk__in=[company.pk for company in self.companies.values()]
                    ).values_list("pk"))
                    count = 0 if self.demo_orders_exist() else self.load_orders()
            except (IntercompanyError, ValidationError) as error:
                raise CommandError(
                    _(
                        "The demo orders could not be loaded (nothing of them was saved): "
                        "%(error)s. Companies, accounts and employees were loaded."
                    ) % {"error": error}
                ) from error
            self.notes.append(
                _("Created %(count)d demo orders.") % {"count": count} if count
                else _("Demo orders already loaded: none created.")
            )
        self.print_summary()

    # -- configuration ---------------------------------------------------------------------------

    def load_companies(self) -> dict[str, Company]:
        companies = {}
        for code, name in COMPANIES:
            company, created = Company.objects.get_or_create(code=code, defaults={"name": name})
            if not created and company.name != name:
                self.notes.append(
                    _("Company %(code)s exists as “%(name)s”: left unchanged.")
                    % {"code": code, "name": company.name}
                )
            companies[code] = company
        return companies

    def load_employees(self) -> dict[str, Employee]:
        employees = {}
        for spec in DEMO_EMPLOYEES:
            employee = Employee.objects.filter(username=spec.username).first()
            if employee is None:
                employee = Employee(
                    username=spec.username,
                    # Alert emails go here (the demo prints them on the worker's console).
                    email=f"{spec.username}@contoso.example",
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                    is_staff=spec.is_superuser,
                    is_superuser=spec.is_superuser,
                    date_joined=self.clock.now(),
                    time_zone=spec.time_zone,
                )
                employee.set_password(spec.password)
                employee.save()
                employee.companies.add(*(self.companies[code] for code in spec.companies))
            else:
                # An existing account is somebody's: never reset its password or widen access.
                if not check_password(spec.password, employee.password):
                    self.notes.append(
                        _("Employee %(username)s exists with another password: left unchanged.")
                        % {"username": spec.username}
                    )
                missing = set(spec.companies) - set(
                    employee.companies.values_list("code", flat=True)
                )
                if missing and not employee.is_superuser:
                    self.notes.append(
                        _(
                            "Employee %(username)s exists but does not work for %(companies)s: "
                            "left unchanged."
                        ) % {"username": spec.username, "companies": ", ".join(sorted(missing))}
                    )
            employees[spec.username] = employee
        return employees

    def load_accounts(self):
        customers, vendors = {}, {}
        for model, table, found in ((Customer, CUSTOMERS, customers), (Vendor, VENDORS, vendors)):
            for code, accounts in table.items():
                for account, name in accounts:
                    found[account], _created = model.objects.get_or_create(
                        company=self.companies[code], account=account, defaults={"name": name}
                    )
        return customers, vendors

    def load_relationships(self) -> dict[tuple[str, str], TradingRelationship]:
        relationships = {}
        for buyer, seller, active, switches, description in RELATIONSHIPS:
            relationship = TradingRelationship.objects.filter(
                buying_company=self.companies[buyer], selling_company=self.companies[seller]
            ).first()
            if relationship is None:
                relationship = create_trading_relationship(
                    buying_company=self.companies[buyer],
                    selling_company=self.companies[seller],
                    employee=self.employees["admin"],
                    active=active,
                    **switches,
                )
            elif relationship.active != active or any(
                getattr(relationship, name) != value for name, value in switches.items()
            ):
                self.notes.append(
                    _("%(relationship)s exists with other settings than the demo's "
                      "(%(description)s): left unchanged.")
                    % {"relationship": relationship, "description": _(description)}
                )
            relationships[(buyer, seller)] = relationship
        return relationships

    # -- orders ----------------------------------------------------------------------------------

    def demo_orders_exist(self) -> bool:
        """The marker: any order on one of the demo's external accounts."""
        return (
            SalesOrder.objects.filter(customer__in=self.customers.values()).exists()
            or PurchaseOrder.objects.filter(vendor__in=self.vendors.values()).exists()
        )

    def ic_vendor(self, buyer: str, seller: str) -> Vendor:
        return self.relationships[(buyer, seller)].intercompany_vendor

    def ic_customer(self, buyer: str, seller: str) -> Customer:
        return self.relationships[(buyer, seller)].intercompany_customer

    def load_orders(self) -> int:
        """The demo story, oldest first. Every order and edit goes through the services."""
        at = self.clock.set
        e = self.employees
        c = self.companies
        cust, vend = self.customers, self.vendors
        before = SalesOrder.objects.count() + PurchaseOrder.objects.count()

        def sales(employee, company, customer, reference="", requisition=""):
            return create_sales_order(
                employee=employee, company=company, customer=customer,
                customer_reference=reference, customer_requisition=requisition,
            )

        def purchase(employee, company, vendor, reference="", requisition=""):
            return create_purchase_order(
                employee=employee, company=company, vendor=vendor,
                customer_reference=reference, customer_requisition=requisition,
            )

        def source(employee, sales_order, vendor):
            return create_intercompany_purchase_order(
                employee=employee, sales_order=sales_order, vendor=vendor
            )

        def edit(order, employee, **values):
            return update_customer_information(order=order, employee=employee, **values)

        # The story in date order (order numbers grow with time, as they would). Chains:
        # - Fabrikam: three legs, every switch on (USMF buys from DEMF): the last edit wins on
        #   every order, so Jonas (DEMF) overwrites Alice's (USMF) requisition on all three;
        # - Northwind: three legs, recommended buyer switches (USMF buys from GBSI): the buyer's
        #   edits reach the seller, the seller's edits stay in the seller's order;
        # - Adventure Works: A -> B -> C, USMF sources from DEMF, DEMF sources its intercompany
        #   sales order from GBSI (DEMF buys from GBSI with only the seller's switch on); its
        #   customer is then changed, and the new original customer stops at DEMF;
        # - Forest Wholesales: one original sales order sourcing from DEMF and from GBSI;
        # - two legs from the buyer's side (purchase orders to intercompany vendors) and from the
        #   seller's side (sales orders to intercompany customers);
        # - Trey Research: the original sales order is cancelled, later edits no longer reach it;
        # - plain orders, one of them cancelled as a duplicate.
        at(24, "14:10")
        sales(e["alice"], c["USMF"], cust["US-002"], "Store replenishment, week 14", "FW-20418")
        at(24, "14:35")
        purchase(e["alice"], c["USMF"], vend["US-101"], "Packaging for Q2 releases")
        at(23, "08:05")
        sales(e["jonas"], c["DEMF"], cust["DE-001"], "Messe Berlin stand", "BE-4471-2026")
        at(23, "09:40")
        purchase(e["jonas"], c["DEMF"], vend["DE-101"], "Freight Hamburg–Munich")
        at(23, "10:20")
        sales(e["priya"], c["GBSI"], cust["GB-001"], "Christmas range", "TT/PO/88213")
        at(22, "11:00")
        purchase(e["priya"], c["GBSI"], vend["GB-101"])
        at(22, "13:15")
        sales(e["sam"], c["DEMF"], cust["DE-002"], "Filiale Köln", "KL-0091")

        at(21, "15:02")
        sales(e["alice"], c["USMF"], cust["US-001"], "Fabrikam spring launch", "PO-7702")
        at(21, "15:04")
        duplicate = sales(
            e["alice"], c["USMF"], cust["US-001"], "Fabrikam spring launch", "PO-7702"
        )
        at(21, "15:06")
        cancel_order(order=duplicate, employee=e["alice"])

        at(20, "14:05")
        fabrikam = sales(
            e["alice"], c["USMF"], cust["US-001"], "Fabrikam spring launch", "PO-7781"
        )
        at(20, "14:07")
        fabrikam_po = source(e["alice"], fabrikam, self.ic_vendor("USMF", "DEMF"))

        at(19, "16:40")
        northwind = sales(
            e["alice"], c["USMF"], cust["US-004"], "Northwind flagship store", "NW-55012"
        )
        at(19, "16:42")
        northwind_po = source(e["alice"], northwind, self.ic_vendor("USMF", "GBSI"))

        at(18, "09:30")
        edit(fabrikam_po.intercompany_sales_order, e["jonas"], customer_requisition="PO-7790")
        at(17, "15:20")
        edit(fabrikam, e["alice"], customer_reference="Fabrikam spring launch, wave 2")

        at(16, "15:10")
        adventure = sales(e["alice"], c["USMF"], cust["US-003"], "AW retail bundles", "AW-3310")
        at(16, "15:12")
        adventure_po = source(e["alice"], adventure, self.ic_vendor("USMF", "DEMF"))
        at(15, "08:45")
        demf_po = source(
            e["jonas"], adventure_po.intercompany_sales_order, self.ic_vendor("DEMF", "GBSI")
        )

        at(15, "10:05")
        edit(northwind_po.intercompany_sales_order, e["priya"], customer_requisition="NW-55012-A")
        at(14, "17:30")
        edit(northwind, e["alice"], customer_requisition="NW-55013")
        at(14, "17:45")
        # Entered for the wrong account: Alice changes the customer. The original customer
        # reaches DEMF's order; DEMF's purchase order policy toward GBSI keeps it from GBSI's.
        edit(adventure, e["alice"], customer=cust["US-006"])

        at(13, "14:50")
        forest = sales(
            e["alice"], c["USMF"], cust["US-002"], "Forest Wholesales summer catalogue",
            "FW-20577",
        )
        at(13, "14:55")
        forest_demf = source(e["alice"], forest, self.ic_vendor("USMF", "DEMF"))
        at(13, "14:58")
        source(e["alice"], forest, self.ic_vendor("USMF", "GBSI"))

        at(12, "11:25")
        # GBSI's clerk enters DEMF's purchase order number; the seller's switch copies it to
        # DEMF's purchase order, and DEMF's purchase order policy stops it there.
        edit(
            demf_po.intercompany_sales_order, e["priya"],
            customer_reference="AW bundles, UK print run", customer_requisition=demf_po.number,
        )

        at(11, "16:20")
        consoles = purchase(
            e["sam"], c["USMF"], self.ic_vendor("USMF", "DEMF"), "Consoles for the Dallas warehouse"
        )
        at(10, "09:35")
        replacement = sales(
            e["jonas"], c["DEMF"], self.ic_customer("USMF", "DEMF"), "Replacement parts for USMF",
            "USMF-REQ-2026-118",
        )
        at(9, "10:15")
        # Sam, acting for DEMF, reaches the original sales order and, from it, GBSI's order.
        edit(
            forest_demf.intercompany_sales_order, e["sam"],
            customer_reference="Forest summer catalogue (split delivery)",
        )
        at(8, "08:50")
        edit(consoles.intercompany_sales_order, e["jonas"], customer_requisition=consoles.number)
        at(8, "09:05")
        edit(
            consoles.intercompany_sales_order, e["jonas"],
            customer_reference="Consoles for the Dallas warehouse (rush)",
        )
        at(7, "10:10")
        sales(
            e["priya"], c["GBSI"], self.ic_customer("DEMF", "GBSI"), "UK print run for DEMF",
            "DE-77120",
        )
        at(6, "15:45")
        purchase(e["alice"], c["USMF"], self.ic_vendor("USMF", "GBSI"), "UK licensing samples")

        at(5, "14:00")
        trey = sales(e["alice"], c["USMF"], cust["US-005"], "Trey Research demo units", "TR-1009")
        at(5, "14:03")
        trey_po = source(e["alice"], trey, self.ic_vendor("USMF", "DEMF"))
        at(4, "18:10")
        cancel_order(order=trey, employee=e["alice"])
        at(3, "09:20")
        edit(trey_po.intercompany_sales_order, e["jonas"], customer_requisition="TR-1009-R")

        at(3, "11:30")
        sales(e["jonas"], c["DEMF"], cust["DE-003"], "Rhein Medien Q3", "RM-2211")
        at(2, "09:25")
        # Alice corrects the requisition Jonas typed on USMF's purchase order; every switch is
        # on, so it replaces his value on DEMF's sales order too: Jonas has an alert.
        edit(
            replacement.intercompany_purchase_order, e["alice"],
            customer_requisition="USMF-REQ-2026-118-B",
        )
        at(2, "10:40")
        sales(e["priya"], c["GBSI"], cust["GB-002"], "Wingtip store openings", "WR-60017")
        at(2, "16:55")
        purchase(e["alice"], c["USMF"], vend["US-102"], "Printed manuals")
        at(1, "12:15")
        sales(e["sam"], c["USMF"], cust["US-004"], "Northwind outlet stores", "NW-55101")
        return SalesOrder.objects.count() + PurchaseOrder.objects.count() - before

    # -- summary ---------------------------------------------------------------------------------

    def print_summary(self) -> None:
        out, style = self.stdout, self.style
        for note in self.notes:
            out.write(note)
        out.write("")
        out.write(style.MIGRATE_HEADING(_("Demo logins (username, password, role)")))
        for spec in DEMO_EMPLOYEES:
            out.write(f"  {spec.username:<8} {spec.password:<18} {spec.role}")
        out.write("")
        out.write(style.MIGRATE_HEADING(_("In the database")))
        orders = SalesOrder.objects.count() + PurchaseOrder.objects.count()
        cancelled = (
            SalesOrder.objects.filter(status=OrderStatus.CANCELLED).count()
            + PurchaseOrder.objects.filter(status=OrderStatus.CANCELLED).count()
        )
        relationships = TradingRelationship.objects.count()
        inactive = TradingRelationship.objects.filter(active=False).count()
        rows = (
            (_("companies"), Company.objects.count()),
            (_("employees"), Employee.objects.count()),
            (_("customers"), Customer.objects.count()),
            (_("vendors"), Vendor.objects.count()),
            (_("trading relationships"),
             _("%(count)d (%(inactive)d inactive)") % {"count": relationships,
                                                       "inactive": inactive}),
            (_("sales orders"), SalesOrder.objects.count()),
            (_("purchase orders"), PurchaseOrder.objects.count()),
            (_("intercompany chains"), OrderChain.objects.count()),
            (_("cancelled orders"), _("%(cancelled)d of %(orders)d") % {"cancelled": cancelled,
                                                                        "orders": orders}),
        )
        overwrites = cross_company_overwrites()
        rows += ((_("cross-company overwrites"), len(overwrites)),)
        for label, value in rows:
            out.write(f"  {label:<26} {value}")
        if overwrites:
            out.write("")
            out.write(style.MIGRATE_HEADING(_("Latest cross-company overwrites")))
            for overwrite in overwrites[:3]:
                out.write(f"  {overwrite.order_number}: {overwrite.describe()}")
