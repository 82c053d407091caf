"""A BEFORE DELETE trigger on each order table: orders are cancelled, never deleted
(see orders/db_guards.py)."""

from django.db import migrations

from orders import db_guards


def create_guards(apps, schema_editor):
    for statement in db_guards.create_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop_guards(apps, schema_editor):
    for statement in db_guards.drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_issue8_records_backfill_overwrites")]

    operations = [migrations.RunPython(create_guards, drop_guards)]
