"""Alembic environment: migrations run from `wuyou db upgrade` with the URL from settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import wuyou.adapters.http_mailbox
import wuyou.adapters.wechat_inbox
import wuyou.desk.incidents.models
import wuyou.desk.models
import wuyou.desk.notices.models
import wuyou.desk.webhooks.models
import wuyou.kb.models  # noqa: F401  (registers the tables on the metadata)
from wuyou.db import Base

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
