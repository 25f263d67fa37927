"""The one gunicorn configuration, used by `make run` and the Dockerfile.

One worker process holds the in-memory state (several share it in Redis with
SCORPIO_SIM_STORE=redis://...); concurrency comes from threads
(gthread), enough that more than 50 requests of one agent can be in flight at
once - otherwise the 1018 limit could never be observed.  SCORPIO_SIM_WORKER_CLASS
=gevent switches to gevent (measured; see README "Serving").
"""

import contextlib
import hashlib
import multiprocessing
import os
import signal
import threading

wsgi_app = "simulator.wsgi:application"
bind = [os.environ.get("SCORPIO_SIM_BIND", "127.0.0.1:8080")]
workers = int(os.environ.get("SCORPIO_SIM_WORKERS", "1"))
worker_class = os.environ.get("SCORPIO_SIM_WORKER_CLASS", "gthread")
if worker_class == "gthread":
    # gthread with a deadline for reading each request (SCORPIO_SIM_REQUEST_TIMEOUT, 10 s):
    # clients sending a byte at a time cannot hold every thread (simulator/serving.py).
    worker_class = "simulator.serving.DeadlineThreadWorker"
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

#: Digest of the last start-up banner printed, shared by the workers this master forks: with
#: several workers the banner is printed once, and again only when a worker's differs (a
#: replacement worker on the in-memory store holds a new world and maybe a new admin token).
LAST_BANNER = multiprocessing.Array("c", hashlib.sha256().digest_size)


def print_banner_once(worker):
    """The banner of the worker's simulator, unless this master's workers printed the same one."""
    app = getattr(worker, "wsgi", None)
    if app is None or "scorpio" not in getattr(app, "extensions", {}):
        return
    from simulator.banner import banner_text, print_banner

    digest = hashlib.sha256(banner_text(app).encode()).digest()
    with LAST_BANNER.get_lock():
        if LAST_BANNER.raw == digest:
            return
        LAST_BANNER.raw = digest
        print_banner(app)


def post_fork(server, worker):
    """Tell the app where this worker really listens, before it is loaded (simulator.listeners).

    Whether /admin, /control and /backoffice need the admin token follows these sockets -
    SCORPIO_SIM_BIND, --bind or GUNICORN_CMD_ARGS, whichever gunicorn used - not the
    environment variable alone.
    """
    from simulator.listeners import announce, of_gunicorn_worker

    announce(of_gunicorn_worker(worker))


def post_worker_init(worker):
    """SIGTERM stops accepting at once, saves the state, and leaves time for a last save.

    gthread's worker notices SIGTERM only at the next tick of its event loop (up to
    1 s), then stops accepting but keeps its listening socket open while in-flight
    requests finish (up to graceful_timeout): a client connecting meanwhile is
    queued by the kernel and reset at the end, without knowing whether its request
    ran.  Here the SIGTERM handler wakes the loop at once, and when the loop stops
    accepting, the worker closes its copy of the listening socket (the master closed
    its own when it began the stop), so a new connection is refused.  A reload
    (SIGHUP) is unaffected: the master keeps its socket open for the new workers.

    Before that, the start-up banner (:func:`print_banner_once`), and a log line saying the
    worker is ready: with several workers, the moment the last one can answer.

    With SCORPIO_SIM_STATE_FILE set, the stop also saves the state at once, and the
    worker waits for its requests for only part of graceful_timeout, so worker_exit's
    last save happens before the master would kill it (simulator.state.autosave).
    """
    from simulator.state.autosave import drain_seconds

    print_banner_once(worker)
    worker.log.info("Worker ready (pid: %s)", worker.pid)
    # This worker's own copy of the configuration: the master still kills at graceful_timeout.
    worker.cfg.set("graceful_timeout", drain_seconds(worker.cfg.graceful_timeout))
    wake = getattr(worker, "method_queue", None)
    stop_accepting = getattr(worker, "set_accept_enabled", None)
    if wake is None or stop_accepting is None:  # not the gthread worker
        return
    handle_exit = worker.handle_exit

    def on_sigterm(sig, frame):
        handle_exit(sig, frame)
        wake.defer(_save_when_the_stop_begins, worker)  # SimpleQueue.put and a pipe write: signal-safe

    def set_accept_enabled(enabled):
        stop_accepting(enabled)
        if not enabled and not worker.alive:
            for listener in worker.sockets:
                with contextlib.suppress(OSError):
                    listener.close()

    worker.set_accept_enabled = set_accept_enabled
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.siginterrupt(signal.SIGTERM, False)


def _simulator_of(worker):
    app = getattr(worker, "wsgi", None)
    return (getattr(app, "extensions", {}), app) if app is not None else ({}, None)


def _save_when_the_stop_begins(worker):
    """In a thread of its own: the event loop goes on draining the requests meanwhile.  Once:
    the worker gets SIGTERM twice when its whole process group is signalled (and the master
    passes it on)."""
    if getattr(worker, "scorpio_stop_saved", False):
        return
    worker.scorpio_stop_saved = True
    extensions, _ = _simulator_of(worker)
    sim = extensions.get("scorpio")
    if sim is None or sim.settings.state_path is None:
        return
    from simulator.state.autosave import save_quietly

    threading.Thread(target=save_quietly, args=(sim, "stop began"), name="scorpio-stop-save").start()


def worker_exit(server, worker):
    """Write SCORPIO_SIM_STATE_FILE when the worker stops (after SIGTERM's drain, or at its end).

    Responses finished from here on are held back (the gate), so whatever a client was told
    happened is in the file.
    """
    extensions, _ = _simulator_of(worker)
    sim = extensions.get("scorpio")
    if sim is not None:
        from simulator.state.statefile import save_at_exit

        sim.stop_housekeeping()
        saver = extensions.get("scorpio_autosave")
        if saver is not None:
            saver.stop()
        gate = extensions.get("scorpio_gate")
        if gate is not None:
            gate.close()
        save_at_exit(sim)
        sim.close()


def on_starting(server):
    """Refuse more than one worker on the in-memory store: its state lives in one process
    (README "Serving").  With SCORPIO_SIM_STORE=redis://... every worker shares the state in Redis."""
    store = os.environ.get("SCORPIO_SIM_STORE", "memory").strip() or "memory"
    if server.cfg.workers > 1 and store == "memory":
        raise SystemExit(
            f"scorpio-sim: refusing to start {server.cfg.workers} workers. The simulator keeps its state "
            "(agents, balances, sessions, the 50-in-flight counts) in the memory of one process; several "
            "workers would each hold a different world. Run one worker - its threads serve concurrent "
            "requests (SCORPIO_SIM_THREADS) - and leave SCORPIO_SIM_WORKERS at 1, or share the state in "
            'Redis with SCORPIO_SIM_STORE=redis://host:port/db (README "Several workers on Redis").'
        )
