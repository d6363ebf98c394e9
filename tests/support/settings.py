"""Change the plugin's settings of a running test app (the plugin reads them once, at start-up)."""

from __future__ import annotations

from typing import Any

from msphub_psa.settings import install


def configure(app: Any, **config: Any) -> None:
    """Set ``app.config`` keys and read the plugin's settings again, as a restart with them would."""
    app.config.update(config)
    install(app)
