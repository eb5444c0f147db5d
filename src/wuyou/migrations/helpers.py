"""What more than one migration needs."""

from __future__ import annotations

from alembic import op

# SQLite's batch mode rebuilds a table it alters beyond adding a plain column: `tickets` keeps AUTOINCREMENT.
TICKETS_TABLE_KWARGS = {"sqlite_autoincrement": True}


def keep_ticket_numbering() -> None:
    """After SQLite rebuilt `tickets`: numbering goes on from 1001 or the highest number used, never lower."""
    if op.get_bind().dialect.name == "sqlite":
        seq = op.get_bind().exec_driver_sql(
            "SELECT MAX(1000, COALESCE((SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'tickets'), 0),"
            " COALESCE((SELECT MAX(id) FROM tickets), 0))"
        ).scalar()
        op.execute("DELETE FROM sqlite_sequence WHERE name = 'tickets'")
        op.execute(f"INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets', {int(seq or 1000)})")
