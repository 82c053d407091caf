"""Fill the original sales order and the original customer of the orders that existed before
them (issue 10).

Every sales order that is not an intercompany one takes its customer as original customer, set
for its company by whoever created it. The original sales order of every leg follows from the
links of its chain. The original customer then goes out from each original sales order along
the links whose switches are on now (relationship active, neither order cancelled), exactly as
a change of customer would; no history row is written: the values did not change, the fields
are new.
"""

from collections import defaultdict

from django.db import migrations

FIELDS = ("original_customer_account", "original_customer_name")
SET = tuple(f"{name}_{suffix}" for name in FIELDS for suffix in ("set_by_id", "set_for_id"))


def fill(apps, schema_editor):
    SalesOrder = apps.get_model("orders", "SalesOrder")
    PurchaseOrder = apps.get_model("orders", "PurchaseOrder")
    TradingRelationship = apps.get_model("intercompany", "TradingRelationship")

    originals = SalesOrder.objects.filter(intercompany_purchase_order__isnull=True)
    for so in originals.select_related("customer").iterator(chunk_size=2000):
        SalesOrder.objects.filter(pk=so.pk).update(
            original_customer_account=so.customer.account,
            original_customer_name=so.customer.name,
            original_customer_account_set_by_id=so.created_by_id,
            original_customer_account_set_for_id=so.company_id,
            original_customer_name_set_by_id=so.created_by_id,
            original_customer_name_set_for_id=so.company_id,
        )

    relationships = {r.pk: r for r in TradingRelationship.objects.all()}
    sales = defaultdict(dict)
    purchases = defaultdict(dict)
    for so in SalesOrder.objects.filter(chain__isnull=False).iterator(chunk_size=2000):
        sales[so.chain_id][so.pk] = so
    for po in PurchaseOrder.objects.filter(chain__isnull=False).iterator(chunk_size=2000):
        purchases[po.chain_id][po.pk] = po

    for chain_id, chain_sales in sales.items():
        chain_purchases = purchases.get(chain_id, {})
        mirror_of = {
            so.intercompany_purchase_order_id: so for so in chain_sales.values()
            if so.intercompany_purchase_order_id
        }
        roots = [so for so in chain_sales.values() if not so.intercompany_purchase_order_id]
        # Outward from each original sales order: origin → purchase order → its mirror → ...
        queue = [(root, root.pk, True) for root in roots]
        while queue:
            so, root_id, carries = queue.pop()
            for po in chain_purchases.values():
                if po.origin_sales_order_id != so.pk:
                    continue
                relationship = relationships.get(po.trading_relationship_id)
                po_carries = carries and _on(
                    relationship, "purchase_policy_syncs_original_sales_order", so, po
                )
                _fill(PurchaseOrder, po, root_id, so if po_carries else None)
                mirror = mirror_of.get(po.pk)
                if mirror is not None:
                    mirror_carries = po_carries and _on(
                        relationship, "purchase_policy_syncs_intercompany_sales_order", po, mirror
                    )
                    _fill(SalesOrder, mirror, root_id, so if mirror_carries else None)
                    queue.append((mirror, root_id, mirror_carries))
                    if mirror_carries:
                        for name in (*FIELDS, *SET):
                            setattr(mirror, name, getattr(so, name))


def _on(relationship, switch, source, target) -> bool:
    """The rule of orders/sync.py, as of this migration (a migration cannot import it)."""
    return bool(
        relationship is not None and relationship.active and getattr(relationship, switch)
        and source.status != "cancelled" and target.status != "cancelled"
    )


def _fill(model, order, root_id, source):
    values = {"original_sales_order_id": root_id}
    if source is not None:
        values.update({name: getattr(source, name) for name in (*FIELDS, *SET)})
        for name, value in values.items():
            setattr(order, name, value)
    model.objects.filter(pk=order.pk).update(**values)


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_issue10_original_customer")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
