"""Reference seamless wallet for Scorpio Play v4 callbacks: ``python -m examples.wallet``."""

from .wallet import create_app, main

__all__ = ["create_app", "main"]
