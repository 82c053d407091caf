"""The database refuses to delete an order, whoever asks (the admin, a shell, raw SQL).

Orders are never deleted: they are cancelled (``orders.services.cancel_order``). Deleting one leg
would break its chain and the history that points to it, and ``on_delete=PROTECT`` guards only
deletions that Django's collector sees. A ``BEFORE DELETE`` trigger on each order table refuses
every row deletion, on PostgreSQL and on SQLite alike (created by migration
``orders/0004_issue7_orders_are_never_deleted``).

PostgreSQL's ``TRUNCATE`` (a database-wide reset, as the test suite does between tests) fires no
row trigger; SQLite has no ``TRUNCATE``, so its reset drops and recreates the triggers around it
(``tests/conftest.py``).
"""

from __future__ import annotations

ORDER_TABLES = ("orders_salesorder", "orders_purchaseorder")
MESSAGE = "Orders are never deleted: cancel the order instead."
_FUNCTION = "orders_refuse_order_deletion"


def trigger_name(table: str) -> str:
    return f"{table}_never_deleted"


def create_statements(vendor: str, tables=ORDER_TABLES) -> list[str]:
    if vendor == "postgresql":
        return [
            f"""
            CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING
                    MESSAGE = '{MESSAGE} (' || TG_TABLE_NAME || ' ' || OLD.number || ')',
                    ERRCODE = 'restrict_violation';
            END
            $$
            """,
            *(
                f"CREATE TRIGGER {trigger_name(table)} BEFORE DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()"
                for table in tables
            ),
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {trigger_name(table)} BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            for table in tables
        ]
    return []


def drop_statements(vendor: str, tables=ORDER_TABLES) -> list[str]:
    if vendor == "postgresql":
        return [
            *(f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table}" for table in tables),
            f"DROP FUNCTION IF EXISTS {_FUNCTION}()",
        ]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {trigger_name(table)}" for table in tables]
    return []
