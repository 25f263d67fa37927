"""The simulator's test-control API (control-api.md): ``/control``."""
