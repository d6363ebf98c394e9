"""Alembic environment of the plugin's own migrations (run by ``flask psa db upgrade``).

The host's connection comes in ``config.attributes["connection"]`` (see ``msphub_psa/daos/schema.py``);
the plugin keeps its own version table, so its history never mixes with the host's. Only the plugin's
tables are compared and migrated: never the host's, never the marketplace relations.
"""

from alembic import context

from msphub_psa.daos.schema import VERSION_TABLE, include_object
from msphub_psa.models.base import Base

config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    include_object=include_object,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
