"""The billing sync, one use case per module.

- ``orchestrator``: one push of a partner (lease, run record, the phases in order);
- ``outbox``: new eligible transactions into the outbox, pending and skipped rows following eligibility;
- ``move``: pushed rows a person chose to move to another agreement;
- ``catalog``: the PSA catalog items of the products to push;
- ``delivery``: a batch of rows created in the PSA concurrently, exactly once, and their outcomes recorded;
- ``rows``: the typed values that cross from the database to the calls and back;
- ``preview``, ``schedule``, ``settings``, ``progress``, ``alerts``, ``runs``, ``status``: what people see and
  decide around a push.
"""
