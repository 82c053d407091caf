"""Create the overwrite records of the history already in the database.

The same definition the sync records with (``OverwriteRecord.is_overwrite``): for each order, in
the order of its history rows (date, then id), a row that replaces a field's non-empty value set
for one company with a different value set for another company (both known). One
``INSERT ... SELECT`` per history table and field, with ``LAG`` over each order's rows: the
database does the work, whatever the size of the history. The fields are those of this
migration's state that follow the ``<field>_set_for`` convention, so a customer-information
field added by a later migration is covered as soon as its columns exist.
"""

from django.db import migrations

ORDER_TYPES = {"HistoricalSalesOrder": "sales", "HistoricalPurchaseOrder": "purchase"}


def customer_information_fields(model) -> list[str]:
    names = {field.name for field in model._meta.get_fields()}
    return sorted(
        name for name in names
        if f"{name}_set_for" in names and f"{name}_set_by" in names
    )


def backfill_overwrite_records(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    record_table = quote(apps.get_model("orders", "OverwriteRecord")._meta.db_table)
    for model_name, order_type in ORDER_TYPES.items():
        history = apps.get_model("orders", model_name)
        table = quote(history._meta.db_table)
        for field in customer_information_fields(history):
            value = quote(field)
            set_by = quote(f"{field}_set_by_id")
            set_for = quote(f"{field}_set_for_id")
            sql = f"""
                INSERT INTO {record_table} (
                    order_type, order_id, order_number, order_company_id, field,
                    old_value, old_set_by_id, old_set_for_id,
                    new_value, new_set_by_id, new_set_for_id,
                    at, kind, source_type, source_id, source_number, source_role, history_id
                )
                SELECT %s, t.id, t.number, t.company_id, %s,
                       t.old_value, t.old_by, t.old_for,
                       t.new_value, t.new_by, t.new_for,
                       t.history_date, t.history_kind, COALESCE(t.history_source_type, ''),
                       t.history_source_id, COALESCE(t.history_source_number, ''),
                       COALESCE(t.history_source_role, ''), t.history_id
                FROM (
                    SELECT h.id, h.number, h.company_id, h.history_id, h.history_date,
                           h.history_kind, h.history_source_type, h.history_source_id,
                           h.history_source_number, h.history_source_role,
                           h.{value} AS new_value, h.{set_by} AS new_by, h.{set_for} AS new_for,
                           LAG(h.{value}) OVER w AS old_value,
                           LAG(h.{set_by}) OVER w AS old_by,
                           LAG(h.{set_for}) OVER w AS old_for
                    FROM {table} h
                    WINDOW w AS (PARTITION BY h.id ORDER BY h.history_date, h.history_id)
                ) t
                WHERE t.old_value IS NOT NULL AND t.old_value <> ''
                  AND t.new_value <> t.old_value
                  AND t.old_for IS NOT NULL AND t.new_for IS NOT NULL
                  AND t.old_for <> t.new_for
                ON CONFLICT DO NOTHING
            """
            with connection.cursor() as cursor:
                cursor.execute(sql, [order_type, field])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_issue8_records_overwrite_record"),
    ]

    operations = [
        migrations.RunPython(backfill_overwrite_records, migrations.RunPython.noop, elidable=True),
    ]
