"""The checked-in migrations build exactly the schema the models describe, on each database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, make_url, select

from forum import create_app
from forum.extensions import db
from forum.models import Category
from forum.models.search import is_search_index_table
from tests.conftest import _worker, app_config, drop_postgres_database, fresh_database_url


@pytest.fixture
def migrated_app(backend, request, tmp_path):
    """An app on a database of its own, empty until the test runs the migrations."""
    url = fresh_database_url(backend, f"forum_migrations_{_worker(request)}", tmp_path)
    yield create_app(app_config(url))
    if backend == "postgresql":
        drop_postgres_database(make_url(url).database)


def test_migrations_produce_exactly_the_models_schema(migrated_app):
    app = migrated_app
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    # The full-text index is DDL of its own (migration 0022), not a model.
                    "include_name": lambda name, type_, _parents: (
                        not (type_ == "table" and is_search_index_table(name))
                    ),
                },
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations differ: {differences}"
        db.engine.dispose()


def test_migrations_create_the_standard_topic_areas_and_downgrade_cleanly(migrated_app):
    app = migrated_app
    with app.app_context():
        upgrade()
        slugs = db.session.scalars(select(Category.slug).order_by(Category.position)).all()
        assert slugs == [
            "privacy",
            "safety",
            "security",
            "model-improvement",
            "research-agenda",
            "workshops",
            "announcements",
            "meta",
        ]
        db.session.remove()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_every_enum_check_constraint_allows_exactly_the_models_values(migrated_app):
    """Autogenerate does not compare CHECK constraints: an enum that gained values in the models
    but not in a migration would refuse rows on real installs while create_all-based tests pass."""
    from sqlalchemy import Enum

    app = migrated_app
    with app.app_context():
        upgrade()
        inspector = inspect(db.engine)
        problems = []
        for table in db.metadata.sorted_tables:
            checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
            for column in table.columns:
                if not isinstance(column.type, Enum) or not column.type.create_constraint:
                    continue
                name = f"ck_{table.name}_{column.type.name}"
                text = checks.get(name, "")
                missing = [v for v in column.type.enums if f"'{v}'" not in text]
                if missing:
                    problems.append(f"{name}: {missing}")
        db.engine.dispose()
    assert problems == []


def test_a_fresh_install_from_migrations_takes_the_demo_content(migrated_app):
    """What `make run` does on a bare machine: migrate, then load every kind of demo content."""
    from forum.services import demo

    with migrated_app.app_context():
        upgrade()
        logins = demo.seed_demo()
        assert len(logins) == 6
        db.session.remove()
        db.engine.dispose()
