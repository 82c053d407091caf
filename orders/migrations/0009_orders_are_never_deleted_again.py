"""Put the triggers refusing order deletion back (see orders/db_guards.py).

On SQLite, altering a field of an order table (as 0005-0008 do) rebuilds the table, and the
rebuild loses its triggers, those created by 0004 included. Drop and recreate the guards after
the last migration that touches the order tables; on PostgreSQL this is a no-op in effect (the
triggers survive ALTER TABLE), and recreating them keeps both databases alike. A later migration
that alters an order table must end the same way.
"""

from django.db import migrations

from orders import db_guards


def recreate_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [*db_guards.drop_statements(vendor), *db_guards.create_statements(vendor)]:
        schema_editor.execute(statement)


def keep_guards(apps, schema_editor):
    """Unapplying this keeps the guards 0004 created (0004's own reverse drops them)."""


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_verbose_names")]

    operations = [migrations.RunPython(recreate_guards, keep_guards)]
