"""A tiny website of another origin for browser tests: serves the HTML pages a test sets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def static_pages(*, host_name: str, missing_body: str) -> Iterator[dict[str, Any]]:
    """Yields {"pages": path -> HTML, "origin": "http://<host_name>:<port>"}; stops at exit."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path.split("?")[0], missing_body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield {"pages": pages, "origin": f"http://{host_name}:{server.server_address[1]}"}
    finally:
        server.shutdown()
        server.server_close()
