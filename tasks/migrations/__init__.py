"""Alembic migrations of the state store, run programmatically (no alembic.ini needed).

``passerelle db upgrade`` and every flow call :func:`upgrade`; a new migration is written with
``alembic -c tasks/migrations/alembic.ini revision -m "..."`` against a scratch database.

An up-to-date store is recognised without Alembic (its ``alembic_version`` row against the head
revision read from ``versions/*.py``): importing Alembic and its upgrade check cost about a quarter
of a second of every command, `passerelle quarantine list` included.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

HERE = Path(__file__).parent
_REVISION = re.compile(r'^(down_revision|revision)\s*=\s*(?:"([^"]*)"|None)', re.MULTILINE)


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.attributes["engine"] = engine
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


@cache
def head_revision() -> str | None:
    """The revision no other migration names as its ``down_revision`` (a linear history)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for file in (HERE / "versions").glob("*.py"):
        for name, value in _REVISION.findall(file.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The store's revision (``alembic_version``), None for a store never migrated."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the state store schema to ``revision`` (idempotent)."""
    if revision == "head" and head_revision() is not None and current_revision(engine) == head_revision():
        return
    from alembic import command

    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
