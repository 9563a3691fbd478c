import logging
from contextlib import contextmanager, nullcontext
from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from data_loss import refusing_data_loss  # migrations/data_loss.py (alembic.ini: prepend_sys_path)
from flask import current_app

from forum.models.search import is_search_index_table

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")


def get_engine():
    # db.get_engine() is deprecated in Flask-SQLAlchemy 3.1 (warnings are errors in the tests).
    return current_app.extensions["migrate"].db.engine


def render_item(type_, obj, autogen_context):
    """Render the forum's own column types as the plain SQLAlchemy types they store."""
    from forum.models.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def sqlite_single_transaction(connection):
    """Run a whole upgrade or downgrade on SQLite in one transaction, as PostgreSQL does.

    A step that fails, or refuses to delete data (migrations/data_loss.py), then leaves the
    database exactly as it was, even when earlier steps of the same command had run. Python's
    sqlite3 driver commits DDL on its own unless transactions are left to the caller
    (isolation_level None, then an explicit BEGIN), and SQLite ignores PRAGMA foreign_keys inside
    a transaction: foreign keys are off around the run so batch mode can rebuild a table other
    rows point at (with them on, its DROP TABLE fails, or cascades deletes), and
    PRAGMA foreign_key_check stands in for them before the commit.
    """
    dbapi_connection = connection.connection.dbapi_connection
    foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    isolation_level = dbapi_connection.isolation_level
    dbapi_connection.isolation_level = None
    try:
        with connection.begin():
            connection.exec_driver_sql("BEGIN")
            yield
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                tables = sorted({row[0] for row in broken})
                raise CommandError(
                    f"The migration would leave {len(broken):,} rows pointing at rows that do "
                    f"not exist (in {', '.join(tables)}). Nothing was changed."
                )
    finally:
        dbapi_connection.isolation_level = isolation_level
        connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        connection.commit()


def include_name(name, type_, parent_names):
    """Autogenerate leaves the full-text index alone: it is DDL of its own, not a model (0022)."""
    return not (type_ == "table" and is_search_index_table(name))


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("include_name", include_name)

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        # One transaction for the whole command on both databases (PostgreSQL's DDL is
        # transactional already; transaction_per_migration stays off).
        with sqlite_single_transaction(connection) if sqlite else nullcontext():
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                transactional_ddl=True,
                **conf_args,
            )
            with context.begin_transaction(), refusing_data_loss(config):
                context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
