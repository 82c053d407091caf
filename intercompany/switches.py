"""The customer-information switches of a trading relationship: their names, the policy and
company that own each, and who may change them. The one source of these words: the model's
field names, the admin, the Intercompany panel, the save and refusal messages and the README all
read them from here (``orders.sync`` imports ``SWITCH_LABELS``).

As in Dynamics 365, each company sets its own policy: the buying company its purchase order
policy, the selling company its sales order policy. Two switches share a name, "Customer
information, intercompany purchase order ↔ intercompany sales order", one in each policy; they
are told apart by the policy (and so by the company) that owns them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

PURCHASE_ORDER_POLICY = _("purchase order policy")
SALES_ORDER_POLICY = _("sales order policy")
BUYING_COMPANY = _("buying company")
SELLING_COMPANY = _("selling company")


@dataclass(frozen=True)
class Switch:
    field: str
    owned_by_buyer: bool  # the buying company's purchase order policy, else the seller's
    label: str  # the switch's name in its policy, as in Dynamics 365
    covers: str  # the copies it governs
    help_text: str

    @property
    def policy(self) -> str:
        return PURCHASE_ORDER_POLICY if self.owned_by_buyer else SALES_ORDER_POLICY

    @property
    def owner_role(self) -> str:
        return BUYING_COMPANY if self.owned_by_buyer else SELLING_COMPANY

    @property
    def qualified_label(self) -> str:
        """The name with its policy, where switches of both policies stand side by side."""
        return _("%(label)s (%(policy)s)") % {"label": self.label, "policy": self.policy}

    def owner(self, relationship):
        """The company whose policy this switch belongs to."""
        return relationship.buying_company if self.owned_by_buyer else relationship.selling_company


SWITCHES: tuple[Switch, ...] = (
    Switch(
        field="purchase_policy_syncs_original_sales_order",
        owned_by_buyer=True,
        label=_("Customer information, original sales order ↔ intercompany purchase order"),
        covers=_("original sales order ↔ intercompany purchase order"),
        help_text=_(
            "Purchase order policy (buying company). When on, a change of customer reference or "
            "customer requisition on the original sales order is copied to the intercompany "
            "purchase order, and a change on the intercompany purchase order is copied back to "
            "the original sales order."
        ),
    ),
    Switch(
        field="purchase_policy_syncs_intercompany_sales_order",
        owned_by_buyer=True,
        label=_("Customer information, intercompany purchase order ↔ intercompany sales order"),
        covers=_("intercompany purchase order → intercompany sales order"),
        help_text=_(
            "Purchase order policy (buying company). When on, a change on the intercompany "
            "purchase order is copied to the intercompany sales order of the selling company."
        ),
    ),
    Switch(
        field="sales_policy_syncs_intercompany_purchase_order",
        owned_by_buyer=False,
        label=_("Customer information, intercompany purchase order ↔ intercompany sales order"),
        covers=_("intercompany sales order → intercompany purchase order"),
        help_text=_(
            "Sales order policy (selling company). When on, a change on the intercompany sales "
            "order is copied to the intercompany purchase order of the buying company (and from "
            "there to the original sales order if the buying company's first switch is on). "
            "With every switch on, the last edit by either company wins on every order."
        ),
    ),
)

SWITCH_BY_FIELD: dict[str, Switch] = {switch.field: switch for switch in SWITCHES}
POLICY_FIELDS: tuple[str, ...] = tuple(switch.field for switch in SWITCHES)

# The shape ``orders.sync`` reads: field -> (policy, switch name).
SWITCH_LABELS: dict[str, tuple[str, str]] = {
    switch.field: (switch.policy, switch.label) for switch in SWITCHES
}

# What needs both companies: the relationship as a whole.
SHARED_FIELDS = ("active", "intercompany_vendor", "intercompany_customer")
SHARED_LABELS = {
    "active": _("the active switch"),
    "intercompany_vendor": _("the intercompany vendor"),
    "intercompany_customer": _("the intercompany customer"),
}


@dataclass(frozen=True)
class PolicyRights:
    """What one employee may change on one trading relationship, and why not the rest.

    A non-superuser changes the switches of the policy of a company they work for; the active
    switch and the intercompany accounts concern both companies, so they need both (or a
    superuser). Whether the employee may administer relationships at all (the group) is the
    admin's question, not this one.
    """

    relationship: object
    is_superuser: bool
    company_ids: frozenset[int]

    @classmethod
    def of(cls, employee, relationship) -> PolicyRights:
        if employee is None or employee.is_superuser:
            return cls(relationship, True, frozenset())
        return cls(
            relationship, False, frozenset(employee.companies.values_list("pk", flat=True))
        )

    def refusal(self, field: str) -> str | None:
        """Why the employee may not change ``field``, or None when they may."""
        if self.is_superuser:
            return None
        relationship = self.relationship
        if field in SWITCH_BY_FIELD:
            switch = SWITCH_BY_FIELD[field]
            owner = switch.owner(relationship)
            if owner.pk in self.company_ids:
                return None
            return _(
                "the %(policy)s belongs to %(company)s, the %(role)s: only its employees change "
                "“%(label)s”"
            ) % {"policy": switch.policy, "company": owner.code, "role": switch.owner_role,
                 "label": switch.label}
        if {relationship.buying_company_id, relationship.selling_company_id} <= self.company_ids:
            return None
        return _(
            "%(what)s concerns both companies: only an employee of both %(buyer)s and "
            "%(seller)s, or a superuser, changes it"
        ) % {"what": SHARED_LABELS.get(field, field), "buyer": relationship.buying_company.code,
             "seller": relationship.selling_company.code}

    def may_change(self, field: str) -> bool:
        return self.refusal(field) is None
