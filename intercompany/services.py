"""Writes of the configuration domain. Each service runs in one transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from intercompany.exceptions import NotAllowedError
from intercompany.history import ChangeContext, ChangeKind, attach_change_context
from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from intercompany.signals import trading_relationship_changed
from intercompany.switches import PolicyRights


def _intercompany_account(model, *, company: Company, represents: Company, given=None):
    """Return the account of ``company`` that represents ``represents``: the one given (checked),
    the existing one, or a new one named after the represented company."""
    field = f"intercompany_{model._meta.model_name}"
    is_vendor = model is Vendor
    if given is not None:
        # What the account represents now, not when the caller loaded it: a stale instance must
        # not re-point an account that already represents another company.
        given = model.objects.select_for_update().get(pk=given.pk)
        if given.company_id != company.pk:
            message = (
                _("The intercompany vendor must be an account of %(company)s.") if is_vendor
                else _("The intercompany customer must be an account of %(company)s.")
            )
            raise ValidationError({field: message % {"company": company.code}})
        if given.represents_company_id not in (None, represents.pk):
            message = (
                _("Vendor %(account)s already represents %(company)s; an intercompany account "
                  "represents one company only.") if is_vendor
                else _("Customer %(account)s already represents %(company)s; an intercompany "
                       "account represents one company only.")
            )
            raise ValidationError({field: message % {
                "account": given.account, "company": given.represents_company.code
            }})
        if given.represents_company_id is None:
            clash = model.objects.filter(company=company, represents_company=represents)
            if clash.exclude(pk=given.pk).exists():
                message = (
                    _("%(company)s already has a vendor account representing %(other)s.")
                    if is_vendor
                    else _("%(company)s already has a customer account representing %(other)s.")
                )
                raise ValidationError(
                    {field: message % {"company": company.code, "other": represents.code}}
                )
            given.represents_company = represents
            given.save(update_fields=["represents_company"])
        return given
    existing = model.objects.filter(company=company, represents_company=represents).first()
    if existing is not None:
        return existing
    account = f"IC-{represents.code}"
    suffix = 1
    while model.objects.filter(company=company, account=account).exists():
        suffix += 1
        account = f"IC-{represents.code}-{suffix}"
    return model.objects.create(
        company=company, account=account, name=represents.name, represents_company=represents
    )


def check_may_create_relationship(
    employee: Employee | None, buying_company: Company, selling_company: Company
) -> None:
    """``NotAllowedError`` unless ``employee`` works for both companies, is a superuser, or is
    None (the system): a trading relationship concerns both."""
    if employee is None or employee.is_superuser:
        return
    ids = set(employee.companies.values_list("pk", flat=True))
    if not {buying_company.pk, selling_company.pk} <= ids:
        raise NotAllowedError(
            _("A trading relationship concerns both companies: only an employee of both "
              "%(buyer)s and %(seller)s, or a superuser, creates it.")
            % {"buyer": buying_company.code, "seller": selling_company.code}
        )


def create_trading_relationship(
    *,
    buying_company: Company,
    selling_company: Company,
    employee: Employee | None = None,
    intercompany_vendor: Vendor | None = None,
    intercompany_customer: Customer | None = None,
    active: bool = True,
    purchase_policy_syncs_original_sales_order: bool = True,
    purchase_policy_syncs_intercompany_sales_order: bool = True,
    sales_policy_syncs_intercompany_purchase_order: bool = False,
) -> TradingRelationship:
    """Create the relationship "buying company purchases from selling company".

    Links the given intercompany vendor and customer accounts, or creates them (``IC-<code>``).
    Refuses a company trading with itself, a second relationship for the same pair and an
    account that already represents another company. A relationship concerns both companies:
    ``employee``, unless a superuser (or None, the system), must work for both
    (``NotAllowedError``).
    """
    if buying_company.pk == selling_company.pk:
        raise ValidationError({"selling_company": _("A company cannot trade with itself.")})
    check_may_create_relationship(employee, buying_company, selling_company)
    with transaction.atomic():
        if TradingRelationship.objects.filter(
            buying_company=buying_company, selling_company=selling_company
        ).exists():
            raise ValidationError(
                _("%(buyer)s already has a trading relationship with %(seller)s.")
                % {"buyer": buying_company.code, "seller": selling_company.code}
            )
        try:
            # A savepoint, so that losing a race with an identical request (both creating the
            # IC-<code> accounts or the relationship at once) leaves the transaction usable and
            # the message clear.
            with transaction.atomic():
                vendor = _intercompany_account(
                    Vendor, company=buying_company, represents=selling_company,
                    given=intercompany_vendor,
                )
                customer = _intercompany_account(
                    Customer, company=selling_company, represents=buying_company,
                    given=intercompany_customer,
                )
                relationship = TradingRelationship(
                    buying_company=buying_company,
                    selling_company=selling_company,
                    intercompany_vendor=vendor,
                    intercompany_customer=customer,
                    active=active,
                    purchase_policy_syncs_original_sales_order=(
                        purchase_policy_syncs_original_sales_order
                    ),
                    purchase_policy_syncs_intercompany_sales_order=(
                        purchase_policy_syncs_intercompany_sales_order
                    ),
                    sales_policy_syncs_intercompany_purchase_order=(
                        sales_policy_syncs_intercompany_purchase_order
                    ),
                )
                attach_change_context(
                    relationship,
                    ChangeContext(employee=employee, company=None, kind=ChangeKind.CREATED),
                )
                relationship.save()
        except IntegrityError:
            raise ValidationError(
                _(
                    "%(buyer)s already has a trading relationship with %(seller)s, or one of its "
                    "intercompany accounts is already used by another relationship."
                ) % {"buyer": buying_company.code, "seller": selling_company.code}
            ) from None
    return relationship


def update_trading_relationship(
    *,
    relationship: TradingRelationship,
    employee: Employee | None,
    **changes: bool,
) -> TradingRelationship:
    """Change the active switch and the customer-information switches.

    Switching never copies anything by itself; it governs the edits that follow. The history row
    names the company whose policy changed (the buying company for the purchase order policy,
    the selling company for the sales order policy; none when both changed at once).

    Each company sets its own policy: ``employee``, unless a superuser (or None, the system),
    changes only the switches of the policy of a company they work for, and the active switch
    only when they work for both companies. Otherwise ``NotAllowedError`` names the first switch
    refused, and nothing is changed.
    """
    allowed = {"active", *TradingRelationship.POLICY_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Unknown switches: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = TradingRelationship.objects.select_for_update().get(pk=relationship.pk)
        changed = [name for name, value in changes.items() if getattr(locked, name) != bool(value)]
        if not changed:
            return locked
        rights = PolicyRights.of(employee, locked)
        for name in changed:
            reason = rights.refusal(name)
            if reason is not None:
                raise NotAllowedError(
                    _("%(relationship)s was not changed: %(reason)s.")
                    % {"relationship": locked, "reason": reason}
                )
        old_values = {name: getattr(locked, name) for name in changed}
        for name in changed:
            setattr(locked, name, bool(changes[name]))
        owners = {locked.policy_owner(name).pk for name in changed if name != "active"}
        company = None
        if len(owners) == 1 and "active" not in changed:
            company = Company.objects.get(pk=owners.pop())
        attach_change_context(
            locked, ChangeContext(employee=employee, company=company, kind=ChangeKind.EDITED)
        )
        locked.save(update_fields=changed)
        trading_relationship_changed.send(
            TradingRelationship, relationship=locked, employee=employee,
            changes={name: (old_values[name], getattr(locked, name)) for name in changed},
        )
    return locked


def set_language_and_time_zone(
    *, employee: Employee, language: str | None = None, time_zone: str | None = None
) -> Employee:
    """Save an employee's own language and/or time zone (``None``: left as it is; empty: the
    browser's language, the group's default zone). Refuses an unknown language or zone with a
    ``ValidationError`` naming the field, and then saves nothing."""
    changes = {
        name: value
        for name, value in (("language", language), ("time_zone", time_zone))
        if value is not None
    }
    for name, value in changes.items():
        setattr(employee, name, value)
    employee.clean_fields(exclude=[f.name for f in Employee._meta.fields if f.name not in changes])
    employee.save(update_fields=list(changes))
    return employee
