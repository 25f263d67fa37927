"""The one gunicorn configuration, used by `make run` and the Dockerfile.

One worker process holds the in-memory state; concurrency comes from threads
(gthread), enough that more than 50 requests of one agent can be in flight at
once - otherwise the 1018 limit could never be observed.  SCORPIO_SIM_WORKER_CLASS
=gevent switches to gevent (measured; see README "Serving").
"""

import os

wsgi_app = "simulator.wsgi:application"
bind = [os.environ.get("SCORPIO_SIM_BIND", "127.0.0.1:8080")]
workers = int(os.environ.get("SCORPIO_SIM_WORKERS", "1"))
worker_class = os.environ.get("SCORPIO_SIM_WORKER_CLASS", "gthread")
threads = int(os.environ.get("SCORPIO_SIM_THREADS", "256"))
worker_connections = 1000
# Seamless callbacks and latency faults may keep a request busy for many seconds.
timeout = 120
graceful_timeout = 30
keepalive = 5
backlog = 2048
loglevel = os.environ.get("SCORPIO_SIM_LOG_LEVEL", "info")
accesslog = None
errorlog = "-"
control_socket_disable = True


def worker_exit(server, worker):
    """Write SCORPIO_SIM_STATE_FILE when the worker stops (after SIGTERM's graceful drain)."""
    app = getattr(worker, "wsgi", None)
    sim = getattr(app, "extensions", {}).get("scorpio") if app is not None else None
    if sim is not None:
        from simulator.state.statefile import save_at_exit

        sim.stop_housekeeping()
        save_at_exit(sim)


def on_starting(server):
    """Refuse more than one worker: the in-memory state lives in one process (README "Serving")."""
    if server.cfg.workers > 1:
        raise SystemExit(
            f"scorpio-sim: refusing to start {server.cfg.workers} workers. The simulator keeps its state "
            "(agents, balances, sessions, the 50-in-flight counts) in the memory of one process; several "
            "workers would each hold a different world. Run one worker - its threads serve concurrent "
            "requests (SCORPIO_SIM_THREADS) - and leave SCORPIO_SIM_WORKERS at 1."
        )
