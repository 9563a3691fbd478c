"""The checked-in migrations build exactly the schema the models describe, on each database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from forum import create_app
from forum.extensions import db
from forum.models import Category
from tests.conftest import app_config, fresh_database_url


def migrated_app(backend, request, tmp_path):
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    url = fresh_database_url(backend, f"forum_migrations_{worker}", tmp_path)
    return create_app(app_config(url))


def test_migrations_produce_exactly_the_models_schema(backend, request, tmp_path):
    app = migrated_app(backend, request, tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations differ: {differences}"
        db.engine.dispose()


def test_migrations_create_the_standard_topic_areas_and_downgrade_cleanly(
    backend, request, tmp_path
):
    app = migrated_app(backend, request, tmp_path)
    with app.app_context():
        upgrade()
        slugs = db.session.scalars(select(Category.slug).order_by(Category.position)).all()
        assert slugs == [
            "privacy", "safety", "security", "model-improvement", "research-agenda",
            "workshops", "announcements", "meta",
        ]  # fmt: skip
        db.session.remove()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
