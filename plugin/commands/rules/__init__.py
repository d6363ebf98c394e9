"""Configure Product Defaults: one use case per module, all over ``msphub_psa.domain.rules``."""
