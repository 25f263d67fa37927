"""Measurements that need a fresh interpreter: each module prints one JSON object on stdout."""
