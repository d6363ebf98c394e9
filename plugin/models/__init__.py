"""SQLAlchemy models on the plugin's own metadata (``base.Base``): ``hub`` is the marketplace contract
(the host's relations, read only), the other modules are the plugin's own tables."""

from msphub_psa.models import (  # noqa: F401  (registers every table on the metadata)
    assurance,
    directory,
    hub,
    integration,
    reconciliation,
    rules,
    sync,
    tenancy,
)
