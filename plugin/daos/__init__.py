"""Data access: every query of the plugin lives here. DAOs flush, never commit."""
