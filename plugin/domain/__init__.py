"""Pure domain logic of the ConnectWise integration: plain Python over plain values.

No I/O, no Flask, no SQLAlchemy, no network. Modules:

- :mod:`msphub_psa.domain.rules`: product classification rules (Product Defaults).
- :mod:`msphub_psa.domain.names`: customer <-> ConnectWise company name matching.
- :mod:`msphub_psa.domain.periods`: billing periods, From Date ranges, eligible agreements.
- :mod:`msphub_psa.domain.billing`: references, catalog identity, payloads, the outbox.
- :mod:`msphub_psa.domain.errors`: the typed errors all of them raise.
"""
