"""/healthz, and production settings passing `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

from tests.factories import client_for

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_database_and_redis(db, settings):
    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok" and body["status"] == "ok"


def test_healthz_is_degraded_when_redis_is_down(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client_for().get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")
    assert response.json()["database"] == "ok"


def test_production_settings_pass_check_deploy():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings.production",
        "DJANGO_SECRET_KEY": "p" * 20 + "RoDuCtIoN-sEcReT-0123456789-abcdefghijk",
        "DATABASE_URL": "postgres://creneau@db.internal:5432/creneau",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "PLATFORM_DOMAIN": "creneau.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings.production",
        "DATABASE_URL": "postgres://creneau@db.internal:5432/creneau",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
