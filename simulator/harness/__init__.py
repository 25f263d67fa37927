"""What the test-control API drives: fault rules (:mod:`.faults`) and the request journal (:mod:`.journal`).

Below the HTTP layer, so the ``/v4`` path, the callback client and the stores can use them;
the ``/control`` routes that change them live in :mod:`simulator.control`.
"""
