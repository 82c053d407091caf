from django.db import migrations

# The list search by an order number (orders.selectors._number_matches) asks for the numbers
# that start with what was typed: ``"number"::text LIKE 'USMF-SO-0421%'``. A btree index with
# the pattern operator class serves that whatever the database's collation (the plain unique
# index on (company, number) does only under the C collation). PostgreSQL only; SQLite keeps
# its scan.
INDEXES = {
    "orders_salesorder": "salesorder_number_prefix",
    "orders_purchaseorder": "purchaseorder_number_prefix",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'("company_id", "number" text_pattern_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES.values():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0009_orders_are_never_deleted_again"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
