"""The simulator's domain: agents, users, the ledger and the catalogue.

Nothing here knows about Flask or HTTP; failures are :class:`simulator.codes.SimError`.
"""
