"""Numbered SQL migrations, applied once per schema and tracked in schema_migrations.

Every service schema first gets the shared messaging tables (outbox, inbox), then the
files of services/<name>/migrations in name order (001_..., 002_...).

A migration is SQL, or Python where SQL cannot do the work (sealing personal data needs the
keys): a `.py` file defines `async def apply(conn)`, run like an SQL file, in the schema's
search path and in the transaction that records it as applied.
"""

import hashlib
import importlib.util
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
SHARED_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def migration_files(service: str | None) -> list[tuple[str, str]]:
    """(name, sql) pairs in the order they must be applied; for a .py file, its path."""
    folders = [("shared", SHARED_MIGRATIONS)]
    if service:
        folders.append((service, ROOT / "services" / service / "migrations"))
    files = []
    for label, folder in folders:
        paths = sorted([*folder.glob("*.sql"), *folder.glob("[0-9]*.py")], key=lambda p: p.name)
        for path in paths:
            text = str(path) if path.suffix == ".py" else path.read_text(encoding="utf-8")
            files.append((f"{label}/{path.name}", text))
    return files


async def _apply(conn: asyncpg.Connection, name: str, text: str) -> None:
    if not name.endswith(".py"):
        await conn.execute(text)
        return
    spec = importlib.util.spec_from_file_location(f"migration_{Path(text).stem}", text)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module.apply(conn)


def _lock_key(schema: str) -> int:
    return int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)


async def migrate(conn: asyncpg.Connection, schema: str, files: list[tuple[str, str]]) -> list[str]:
    """Apply the files not yet applied to `schema`; returns the names applied now."""
    applied_now = []
    # Several copies of a service may start at once: one applies, the others wait.
    await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for name, sql in files:
            if name in done:
                continue
            async with conn.transaction():
                await _apply(conn, name, sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied_now.append(name)
    finally:
        await conn.execute("RESET search_path")
        await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))
    return applied_now


async def migrate_service(database_url: str, service: str, schema: str | None = None) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate(conn, schema or service, migration_files(service))
    finally:
        await conn.close()
