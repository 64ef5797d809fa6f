"""gunicorn's threaded (``gthread``) worker, its quit signal acted on by its event loop.

gunicorn's arbiter answers SIGINT and SIGQUIT by sending its worker SIGQUIT (a terminal's
Ctrl-C sends the worker SIGINT as well, handled the same way). gthread's handler shuts the
thread pool down and raises ``SystemExit`` inside the signal handler, and a Python signal
handler runs between two bytecodes of whatever the main thread was doing. When that was
``ThreadPoolExecutor.submit`` (the event loop handing a connection to a thread), the main
thread already holds the pool's lock, and the handler waits for it forever
(python/cpython#121649): the worker hangs, the arbiter kills it after the graceful timeout
(60 s with ``--data``) and the last snapshot is never written. Seen on a loaded machine in about one
SIGINT in 20 (the connection the client just closed is handed to a thread as the arbiter's
SIGQUIT arrives). A ``SystemExit`` raised by the handler could also cut the last snapshot
short (the second signal of a Ctrl-C, arriving while the worker writes it), or be swallowed
when the signal lands inside a garbage-collector callback (simulator/serve.py,
``steady_gc``), which reports the exception and goes on.

Here the handler only takes note (``alive`` off, a quit requested). Python's C-level signal
handler writes a byte to the worker's wake-up pipe (``signal.set_wakeup_fd``, set by
gunicorn for every worker) as each signal arrives, and the event loop watches that pipe, so
it wakes at once (else within its one-second poll); after each turn it looks at the request,
shuts the pool down and exits from a point where it holds no lock. The exit then takes
gunicorn's usual way out of the worker (``worker_exit``: the last snapshot).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import sys
from types import FrameType
from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class Worker(ThreadWorker):  # type: ignore[misc]
    """gthread, its SIGQUIT and SIGINT handled outside the signal handler."""

    quit_requested = False

    def run(self) -> None:
        # gunicorn's base worker sets self.PIPE's write end as the wake-up fd; gthread's loop
        # does not watch the read end. Watched here: a signal wakes the loop's select.
        self.poller.register(self.PIPE[0], selectors.EVENT_READ, self.drain_wakeups)
        super().run()

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        """SIGQUIT, SIGINT: stop now. Nothing here takes a lock or raises."""
        self.alive = False
        self.quit_requested = True

    def drain_wakeups(self, _pipe: Any) -> None:
        with contextlib.suppress(OSError):  # non-blocking: empty is BlockingIOError
            os.read(self.PIPE[0], 4096)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """One turn of the event loop (serving, or waiting for connections to finish after
        SIGTERM); then quit if a signal asked for it, holding no lock here."""
        super().wait_for_and_dispatch_events(timeout)
        if self.quit_requested:
            self.tpool.shutdown(wait=False)  # as gthread's handler did, outside its lock
            self.cfg.worker_int(self)
            sys.exit(0)  # gunicorn's way out of the worker: worker_exit, the last snapshot
