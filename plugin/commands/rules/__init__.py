"""Configure Product Defaults: one use case per module, all over ``plugin.domain.rules``."""
