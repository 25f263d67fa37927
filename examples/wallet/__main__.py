"""``python -m examples.wallet`` (run from the repository root)."""

from .wallet import main

main()
