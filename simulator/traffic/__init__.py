"""The traffic generator: virtual players load-test an agent's wallet (control-api.md ``/control/traffic``).

- :mod:`.plan` - what a run is asked to do and the checks before it starts;
- :mod:`.run` - the run itself (setup, paced play, drain, reconciliation), in threads;
- :mod:`.runs` - the runs of one simulator (start, look up, stop);
- :mod:`.report` and :mod:`.text` - its figures as JSON and as text;
- :mod:`.cli` - ``python -m simulator traffic``, which drives a running simulator over HTTP.
"""
