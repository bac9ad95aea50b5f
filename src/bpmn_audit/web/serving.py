"""Running the app for people: a threaded HTTP server with the timer sweep beside it.

The sweep runs the background work (due timers, due emails, a heartbeat) every ``interval`` seconds in its
own thread, so reminders, escalations and deadlines happen without a separate worker; several servers and
``bpmn-audit worker`` processes may sweep at once (timers lock per audit, emails per message).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from werkzeug.serving import make_server

from ..services.case_crypto import require_case_key
from ..services.sweep import run_round, run_until, worker_name

log = logging.getLogger(__name__)


class TimerSweep(threading.Thread):
    """The background work (``services/sweep.py``) every ``interval`` seconds, beside the server, until stopped."""

    def __init__(self, app: Flask, interval: float):
        super().__init__(name="timer-sweep", daemon=True)
        self.app = app
        self.interval = interval
        self.name_as_worker = worker_name("serve")
        self.stopped = threading.Event()

    def sweep(self) -> int:
        """One round now: fire what is due, send the emails due, beat."""
        return run_round(self.app, self.name_as_worker)

    def run(self) -> None:
        run_until(self.app, self.name_as_worker, self.interval, self.stopped)

    def stop(self) -> None:
        """End the sweep after the round in progress."""
        self.stopped.set()


def serve(app: Flask, host: str, port: int, sweep_seconds: float) -> None:
    """Serve until interrupted. Refuses to start without a case key (CaseKeyError)."""
    require_case_key(app.config)
    sweep = TimerSweep(app, sweep_seconds)
    sweep.start()  # its first round at once: what fell due while nothing ran
    server = make_server(host, port, app, threaded=True)
    log.info("serving on http://%s:%s with the timer sweep every %s s", host, server.server_port, sweep_seconds)
    try:
        server.serve_forever()
    finally:
        sweep.stop()
        server.server_close()
