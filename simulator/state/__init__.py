"""Saving and restoring the whole simulator state: snapshots and the state file."""
