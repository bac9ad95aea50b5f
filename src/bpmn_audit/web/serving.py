"""Running the app for people: a threaded HTTP server with the timer sweep beside it.

The sweep fires due timers every ``interval`` seconds in its own thread and app context, so reminders,
escalations and deadlines happen without a separate worker; several servers may sweep at once (timers
lock per audit). For more than one machine, run ``bpmn-audit timers run-due`` from a scheduler instead.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from werkzeug.serving import make_server

from ..services.case_crypto import require_case_key
from ..services.outbox import send_due
from ..services.timers import fire_due_timers

log = logging.getLogger(__name__)


class TimerSweep(threading.Thread):
    """Fires due timers and sends the emails due, every ``interval`` seconds until stopped."""

    def __init__(self, app: Flask, interval: float):
        super().__init__(name="timer-sweep", daemon=True)
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()

    def sweep(self) -> int:
        """One round: fire what is due now, then send the emails due; a failure is logged (the timers keep
        their own incidents, the outbox its own errors) and the next round tries again."""
        with self.app.app_context():
            try:
                fired = fire_due_timers("serve")
                send_due("serve")
                return fired
            except Exception:  # one bad round must not end the sweep; the next round tries again
                log.exception("the sweep failed; trying again in %s s", self.interval)
                return 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sweep()

    def stop(self) -> None:
        """End the sweep after the round in progress."""
        self.stopped.set()


def serve(app: Flask, host: str, port: int, sweep_seconds: float) -> None:
    """Serve until interrupted. Refuses to start without a case key (CaseKeyError)."""
    require_case_key(app.config)
    sweep = TimerSweep(app, sweep_seconds)
    sweep.sweep()  # what fell due while nothing ran
    sweep.start()
    server = make_server(host, port, app, threaded=True)
    log.info("serving on http://%s:%s with the timer sweep every %s s", host, server.server_port, sweep_seconds)
    try:
        server.serve_forever()
    finally:
        sweep.stop()
        server.server_close()
