"""gunicorn's hooks for `make run`: Ctrl-C stops the web server at once and quietly.

Ctrl-C in a terminal signals every process of the foreground group, the workers too, and the
master then tells each worker to quit as well: the second signal came while the worker was
already exiting, inside its thread-pool's exit handler ("Exception ignored ... SystemExit"). And a
worker whose thread is still reading an upload was killed after the graceful timeout ("Worker was
sent SIGKILL! Perhaps out of memory?"). Here a worker leaves the stopping to the master, and once
told to quit gives its requests in flight a moment, then ends: an upload cut off that way stores
nothing (jobs/uploads.py), and the page says so."""

import os
import signal
import threading

# How long a quitting worker lets its requests in flight finish; below --graceful-timeout.
QUIT_SECONDS = 3


def post_worker_init(worker):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the master's word is the one that counts


def worker_int(worker):
    ending = threading.Timer(QUIT_SECONDS, os._exit, [0])
    ending.daemon = True
    ending.start()
