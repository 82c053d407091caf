"""The shapes of the API's requests and responses: they validate the input, check every
response, and are the OpenAPI schema the server serves."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool


class ProblemFieldError(Schema):
    field: str | None = Field(description="The field, or null for the request as a whole.")
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemFieldError] | None = None


class CompanyOut(Schema):
    code: str = Field(examples=["XYZ"])
    name: str


class AccountOut(Schema):
    account: str
    name: str
    represents_company: str | None = Field(
        description="For an intercompany account: the code of the company it represents."
    )


class SetterOut(Schema):
    """An employee acting for a company (null parts: a system change or a former employee)."""

    employee: str
    company: str | None


class OrderRefOut(Schema):
    type: Literal["sales", "purchase"]
    number: str
    company: str
    role: str = Field(examples=["intercompany purchase order"])
    url: str | None = Field(description="The order in the API, where the caller may open it.")


class OriginalCustomerOut(Schema):
    """The end customer of the chain's original sales order, as in its company."""

    account: str = Field(examples=["XYZ-C-0042"])
    name: str = Field(examples=["Example Retail Ltd"])


class OrderOut(Schema):
    type: Literal["sales", "purchase"]
    number: str = Field(examples=["XYZ-SO-000042"])
    company: str
    role: str = Field(examples=["original sales order"])
    status: Literal["open", "cancelled"]
    version: int = Field(description="Grows with every write; the ETag is its quoted value.")
    etag: str
    customer: AccountOut | None = Field(description="Sales orders: the customer.")
    vendor: AccountOut | None = Field(description="Purchase orders: the vendor.")
    customer_reference: str
    customer_requisition: str
    customer_reference_set_by: SetterOut | None
    customer_requisition_set_by: SetterOut | None
    original_customer: OriginalCustomerOut | None = Field(
        description="The end customer of the original sales order, carried on every order of "
        "its chain; it changes with the original sales order's customer (null where none: a "
        "plain purchase order, a chain that began with a purchase order)."
    )
    original_customer_set_by: SetterOut | None
    original_sales_order: OrderRefOut | None = Field(
        description="The sales order the chain began from (null on it and outside chains)."
    )
    is_intercompany: bool
    created_at: datetime
    updated_at: datetime
    url: str


class ChainOrderOut(Schema):
    type: Literal["sales", "purchase"]
    number: str
    company: str
    role: str
    status: Literal["open", "cancelled"]
    customer_reference: str
    customer_requisition: str
    original_customer: OriginalCustomerOut | None
    original_customer_note: str | None = Field(
        description="Why this order does not show the original sales order's customer (a "
        "switch off, a cancelled order), or null."
    )
    is_current: bool
    url: str | None = Field(description="Null where the caller does not work for the company.")


class ChainLinkOut(Schema):
    """One direction of a link of the chain: does customer information travel this way?"""

    source: str = Field(description="Number of the order a change is copied from.")
    target: str = Field(description="Number of the order it is copied to.")
    on: bool
    off_reason: str | None
    switch: str = Field(examples=["purchase_policy_syncs_original_sales_order"])
    switch_label: str
    policy: str = Field(examples=["purchase order policy"])
    policy_company: str
    trading_relationship: int


class ChainOut(Schema):
    orders: list[ChainOrderOut]
    links: list[ChainLinkOut]


class OrderDetailOut(OrderOut):
    chain: ChainOut


class OrderPageOut(Schema):
    results: list[OrderOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")
    next: str | None = Field(description="The next page, or null on the last one.")


class NotCopiedOut(Schema):
    number: str
    company: str
    reason: str


class SaveResultOut(Schema):
    """What the save did, as the screens' message says it."""

    message: str
    changed_fields: list[str]
    copied_to: list[OrderRefOut]
    not_copied: list[NotCopiedOut]


class OrderSavedOut(Schema):
    order: OrderDetailOut
    result: SaveResultOut


class OrderCreatedOut(Schema):
    message: str
    order: OrderDetailOut
    created: list[OrderRefOut] = Field(description="Every order created, this one first.")


class StaleProblemOut(ProblemOut):
    current: OrderDetailOut


class FieldChangeOut(Schema):
    field: str
    label: str
    old: str
    new: str
    overwrote: SetterOut | None = Field(
        description="Whose value was replaced, when it was another company's."
    )


class HistoryEntryOut(Schema):
    id: int
    at: datetime
    by: SetterOut
    kind: Literal["created", "edited", "synced"]
    how: str = Field(examples=["copied from intercompany sales order XYZ-SO-000412"])
    source: OrderRefOut | None
    changes: list[FieldChangeOut]


class TimelineEntryOut(Schema):
    at: datetime
    value: str
    previous_value: str
    set_by: SetterOut
    kind: Literal["created", "edited", "synced"]
    source_number: str
    overwrote: SetterOut | None


class OverwriteOut(Schema):
    at: datetime
    order: OrderRefOut
    field: str
    label: str
    old_value: str
    old_set_by: SetterOut
    new_value: str
    new_set_by: SetterOut
    how: str
    description: str


class OverwritePageOut(Schema):
    results: list[OverwriteOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")
    next: str | None = Field(description="The next page, or null on the last one.")


class AccountPageOut(Schema):
    results: list[AccountOut]
    next_cursor: str | None


class SwitchOut(Schema):
    name: str
    label: str
    policy: str
    company: str = Field(description="The company whose policy holds the switch.")
    on: bool
    may_change: bool = Field(description="Whether the caller may change this switch.")
    why_not: str | None = Field(
        description="Why the caller may not change it (null when they may)."
    )


class TradingRelationshipOut(Schema):
    id: int
    buying_company: str
    selling_company: str
    intercompany_vendor: str
    intercompany_customer: str
    active: bool
    purchase_policy_syncs_original_sales_order: bool
    purchase_policy_syncs_intercompany_sales_order: bool
    sales_policy_syncs_intercompany_purchase_order: bool
    switches: list[SwitchOut]
    may_change: bool = Field(
        description="Whether the caller may change at least one switch (each switch says "
        "which): superusers, and relationship administrators for the policies of their "
        "companies."
    )
    may_change_active: bool = Field(
        description="Whether the caller may switch the relationship on or off (it concerns "
        "both companies)."
    )


# -- requests -----------------------------------------------------------------------------------
# Text fields are plain strings here: the clerk forms check them, so the API answers with the
# forms' messages. An unknown field is refused rather than ignored (a misspelt field would
# otherwise change nothing without a word).


class RequestSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class SalesOrderIn(RequestSchema):
    customer: str = Field(description="Account of a customer of the company.")
    customer_reference: str = ""
    customer_requisition: str = ""


class PurchaseOrderIn(RequestSchema):
    vendor: str = Field(description="Account of a vendor of the company.")
    customer_reference: str = ""
    customer_requisition: str = ""


class IntercompanyPurchaseOrderIn(RequestSchema):
    vendor: str = Field(description="Account of an intercompany vendor on an active relationship.")


class CustomerInformationIn(RequestSchema):
    """Only the fields sent are changed."""

    customer: str = Field(default=None, description=(
        "Sales orders: the account of another customer of the company (open orders that are "
        "not intercompany sales orders; not an intercompany customer). It becomes the original "
        "customer, which travels along the chain as the switches say."))
    customer_reference: str = Field(default=None)
    customer_requisition: str = Field(default=None)


class TradingRelationshipIn(RequestSchema):
    """Only the switches sent are changed."""

    active: StrictBool = None
    purchase_policy_syncs_original_sales_order: StrictBool = None
    purchase_policy_syncs_intercompany_sales_order: StrictBool = None
    sales_policy_syncs_intercompany_purchase_order: StrictBool = None
