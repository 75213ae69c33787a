"""gunicorn settings of the web replicas (docker-compose.yml: `-c deploy/gunicorn.conf.py`).

With several worker processes, each keeps its own Prometheus counters; PROMETHEUS_MULTIPROC_DIR
makes them write to files that /metrics sums (saas_platform/metrics.py). The folder is emptied
when the server starts, and a dead worker's live gauges are dropped.
"""

import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_PROCESSES", "3"))
threads = int(os.environ.get("WEB_THREADS", "2"))
preload_app = True
# Keep idle connections longer than the proxy (or a client) waits between two requests on one:
# with gunicorn's 2 s a reused connection is sometimes closed under the client's next request
# ("connection reset": measured in bench/load/run.py).
keepalive = 75
# Recycle a worker now and then (slow leaks), not all at once.
max_requests = 5000
max_requests_jitter = 500

# Emptied here, when the master reads this file: before preload_app imports the app, whose
# counters open their files at import.
_folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _folder:
    shutil.rmtree(_folder, ignore_errors=True)
    os.makedirs(_folder, exist_ok=True)


def child_exit(server, worker):  # noqa: ARG001  (gunicorn's hook signature)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
