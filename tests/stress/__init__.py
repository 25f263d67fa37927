"""Concurrency stress tests against the live server (``make run``)."""
