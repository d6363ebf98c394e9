"""ConnectWise PSA billing integration for MSP Hub, as a Flask-AppBuilder addon.

Switch it on in a FAB application with
``ADDON_MANAGERS = ["msphub_psa.addon.ConnectWiseAddon"]``. Importing this package
has no side effects.
"""

__version__ = "0.1.0"
ADDON_MANAGER = "msphub_psa.addon.ConnectWiseAddon"
