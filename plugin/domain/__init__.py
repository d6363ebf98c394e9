"""Pure domain logic of the ConnectWise integration: plain Python over plain values.

No I/O, no Flask, no SQLAlchemy, no network. Modules:

- :mod:`plugin.domain.rules`: product classification rules (Product Defaults).
- :mod:`plugin.domain.names`: customer <-> ConnectWise company name matching.
- :mod:`plugin.domain.periods`: billing periods, From Date ranges, eligible agreements.
- :mod:`plugin.domain.billing`: references, catalog identity, payloads, the outbox.
- :mod:`plugin.domain.errors`: the typed errors all of them raise.
"""
