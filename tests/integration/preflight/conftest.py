"""Push tests run inside the app's context."""

from __future__ import annotations

import pytest


@pytest.fixture
def ctx(app):
    """An application context for the test's body."""
    with app.app_context():
        yield app
