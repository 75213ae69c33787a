"""Start local Stripe: `make_server`, `serve_in_thread()` (tests, dev scripts) and
`start_subprocess()` (a separate process, e.g. for `make run`); `python -m stripe_local` too.

Importing this module loads every resource module (stripe_local.resources), which registers
the routes the engine serves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import stripe_local.resources  # noqa: F401 - registers every route, renderer and hook
from stripe_local.app.server import LocalStripeServer
from stripe_local.app.state import Config, State


def make_server(
    host: str = "127.0.0.1",
    port: int = 12111,
    *,
    state_file: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    public_url: str | None = None,
    verbose: bool = False,
) -> LocalStripeServer:
    """A ready (not yet serving) server with its state; webhook delivery threads started."""
    config = Config(state_file=state_file, public_url=public_url)
    final_action = os.environ.get("STRIPE_LOCAL_DUNNING_FINAL_ACTION")
    if final_action in ("mark_unpaid", "cancel", "leave_past_due"):
        config.dunning_final_action = final_action
    if retry_delays:
        config.retry_delays = tuple(retry_delays)
    state = State(config)
    server = LocalStripeServer((host, port), state, verbose=verbose)
    state.start()
    return server


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    state_file: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    public_url: str | None = None,
) -> tuple[str, Callable[[], None]]:
    """Start local Stripe in a daemon thread; returns (base_url, stop). Port 0 picks a free one."""
    server = make_server(
        host, port, state_file=state_file, retry_delays=retry_delays, public_url=public_url
    )
    thread = threading.Thread(target=server.serve_forever, name="stripe-local", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        server.state.stop()
        thread.join(timeout=5)

    return server.base_url, stop


def start_subprocess(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    state_file: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    python: str | None = None,
    timeout: float = 15.0,
) -> tuple[str, subprocess.Popen[str]]:
    """Run `python -m stripe_local` in a child process; returns (base_url, process) once it answers.

    Stop it with `process.terminate(); process.wait()`."""
    command = [python or sys.executable, "-m", "stripe_local", "--host", host, "--port", str(port)]
    if state_file:
        command += ["--state-file", state_file]
    if retry_delays:
        command += ["--retry-delays", ",".join(str(d) for d in retry_delays)]
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_parent + os.pathsep + env.get("PYTHONPATH", "")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("stripe_local listening on "):
        process.terminate()
        raise RuntimeError(f"stripe_local did not start: {line!r}")
    base_url = line.split(" on ", 1)[1].strip()
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(base_url + "/_local/health", timeout=1):  # noqa: S310
                break
        except OSError:
            if time.time() > deadline:
                process.terminate()
                raise RuntimeError("stripe_local did not answer in time")
            time.sleep(0.05)
    return base_url, process
