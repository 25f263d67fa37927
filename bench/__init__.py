"""scorpio-sim benchmarks (issue 7): ``make bench`` or ``python -m bench``; see ``bench/README.md``.

Not part of the test suite and not packaged: it runs from the repository root.
"""
