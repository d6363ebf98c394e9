"""The host's own package named plugin (its name must not collide with the addon's)."""

HOST_OWNS_THIS = True
