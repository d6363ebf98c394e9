"""SQLAlchemy models on FAB's ``Model`` metadata: ``hub`` (marketplace) and ``psa`` (integration)."""
from plugin.models import hub, psa  # noqa: F401  (registers every table on the metadata)
