"""The main API, ``/v4`` (spec sections 2-5)."""
