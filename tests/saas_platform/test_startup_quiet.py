"""Starting a process queries no database before the apps are ready.

The metrics collector used to be registered from `AppConfig.ready` without `describe()`, so
prometheus_client ran its `collect()` (backlog counts, webhook lag) to learn the gauges' names:
every `manage.py` command, worker and web process printed Django's "Accessing the database
during app initialization is discouraged" warning, and started with three queries.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_manage_py_starts_without_touching_the_database_early():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "saas_platform.settings.test"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "manage.py", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "during app initialization" not in done.stderr


def test_the_scrape_time_gauges_are_still_exported():
    from saas_platform.metrics import GAUGES, SCRAPE_TIME

    described = {family.name for family in SCRAPE_TIME.describe()}
    assert described == {name for name, _, _ in GAUGES.values()}
