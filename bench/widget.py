"""Booking widget weight and speed in headless Chromium.

Prints the gzipped sizes of `widget.js` and of the booking page's own JS + CSS (Stripe.js
excluded), the time from navigation to the first interactive service list (median of 10 cold
page loads) and from choosing a day to its times shown (median of 10 days). Targets: widget.js
<= 5 KB, page assets <= 40 KB gzipped; service list <= 400 ms, day -> times <= 150 ms.

Run: .venv/bin/python bench/widget.py   (PostgreSQL from BENCH_DATABASE_URL, else local
127.0.0.1:5432 or the embedded one; uses its own database `creneau_bench_widget`, test settings,
a tenant `benchwidget` with two staff and three services; needs /usr/bin/chromium).
"""

import gzip
import os
import socket
import statistics
import sys
import threading
from datetime import time
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.request import Request, urlopen
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import dev  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
PAGE_ASSETS = ["widgets/common.js", "widgets/calendar.js", "widgets/book.js", "widgets/book.css"]
# Records, in the page's own clock, when the first service and the first time button appear.
OBSERVER = """
new MutationObserver(() => {
  if (!window.__firstOption && document.querySelector('.cr-option')) {
    window.__firstOption = performance.now();
  }
  if (window.__dayClickedAt && !window.__timesAt && document.querySelector('.cr-time')) {
    window.__timesAt = performance.now();
  }
}).observe(document, {childList: true, subtree: true});
"""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _prepare_database() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or dev.find_database_url("creneau_bench_widget")
    if not os.environ.get("BENCH_DATABASE_URL") and os.environ.get("DATABASE_URL"):
        url = url.rsplit("/", 1)[0] + "/creneau_bench_widget"
    dev.ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "saas_platform.settings.test"


def _catalogue():
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from scheduling.models import Service, StaffMember, WorkingHours
    from tenants.models import Tenant
    from tenants.services import tenant_provision

    print("migrating the bench database (public, template) ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(slug="benchwidget").first() or tenant_provision(
        slug="benchwidget", name="Bench Studio", owner_email="owner@benchwidget.test",
        owner_name="Bench Owner", owner_password="bench-passphrase-123", country="FR",
        currency="EUR", time_zone="Europe/Paris",
    )  # fmt: skip
    with tenant_context(tenant):
        if not Service.objects.exists():
            staff = [StaffMember.objects.create(display_name=name) for name in ("Ada", "Ben")]
            for member in staff:
                for weekday in range(7):
                    WorkingHours.objects.create(staff=member, weekday=weekday, start=time(8),
                                                end=time(20))  # fmt: skip
            for name, category, mode, price in [("Haircut", "Hair", "pay_at_venue", 3000),
                                                ("Colour", "Hair", "pay_at_venue", 6000),
                                                ("Consultation", "Advice", "free", 0)]:  # fmt: skip
                service = Service.objects.create(
                    name=name, category=category, duration_minutes=30, price_minor=price,
                    payment_mode=mode, slot_interval_minutes=15, maximum_advance_days=90,
                )  # fmt: skip
                service.staff.add(*staff)
        service = Service.objects.get(name="Haircut")
    connection.set_schema_to_public()
    return service


def _gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def main() -> None:
    _prepare_database()
    import django

    django.setup()
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    service = _catalogue()
    port = _free_port()
    server = make_server("127.0.0.1", port, StaticFilesHandler(get_wsgi_application()),
                         server_class=_Server, handler_class=_Quiet)  # fmt: skip
    threading.Thread(target=server.serve_forever, daemon=True).start()
    booking_url = f"http://benchwidget.localhost:{port}/book/"

    script = urlopen(Request(f"http://127.0.0.1:{port}/widget.js",  # noqa: S310
                             headers={"Host": f"localhost:{port}"})).read()  # fmt: skip
    own = b"".join(Path(finders.find(asset)).read_bytes() for asset in PAGE_ASSETS)
    manage = Path(finders.find("widgets/manage.js")).read_bytes()
    print(f"widget.js                      {len(script):6d} B raw  {_gzipped(script):6d} B gzip"
          "   (target <= 5120)")  # fmt: skip
    print(f"booking page own JS+CSS        {len(own):6d} B raw  {_gzipped(own):6d} B gzip"
          "   (target <= 40960)")  # fmt: skip
    print(f"manage page extra (manage.js)  {len(manage):6d} B raw  {_gzipped(manage):6d} B gzip")

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        list_times, day_times = [], []
        warm = browser.new_page()
        warm.goto(booking_url)
        warm.wait_for_selector(".cr-option")
        warm.close()
        for _ in range(RUNS):
            context = browser.new_context()  # cold cache each time
            page = context.new_page()
            page.add_init_script(OBSERVER)
            page.goto(booking_url)
            page.wait_for_function("() => window.__firstOption")
            list_times.append(page.evaluate("window.__firstOption"))
            context.close()
        page = browser.new_page()
        page.add_init_script(OBSERVER)
        page.goto(f"{booking_url}{service.pk}/")  # direct link: the staff step comes first
        page.click("[data-staff='anyone']")
        page.wait_for_selector(".cr-day-open")
        days = page.locator(".cr-day-open").count()
        for index in range(min(RUNS, days)):
            page.evaluate("""i => { window.__timesAt = 0; window.__dayClickedAt = performance.now();
                                    document.querySelectorAll('.cr-day-open')[i].click(); }""",
                          index)  # fmt: skip
            page.wait_for_function("() => window.__timesAt")
            day_times.append(page.evaluate("window.__timesAt - window.__dayClickedAt"))
        browser.close()
    server.shutdown()
    print(f"navigation -> service list      median {statistics.median(list_times):6.1f} ms  "
          f"max {max(list_times):6.1f} ms  (n={len(list_times)}, target <= 400)")  # fmt: skip
    print(f"day chosen -> times shown       median {statistics.median(day_times):6.1f} ms  "
          f"max {max(day_times):6.1f} ms  (n={len(day_times)}, target <= 150)")  # fmt: skip


if __name__ == "__main__":
    main()
