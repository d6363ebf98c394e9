"""Test helpers shared by unit, integration and browser tests."""
