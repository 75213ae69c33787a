"""`python -m stripe_local --port 12111 [--host 127.0.0.1] [--state-file .creneau/stripe.json]`."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from stripe_local.server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stripe_local", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("STRIPE_LOCAL_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("STRIPE_LOCAL_PORT", "12111"))
    )
    parser.add_argument(
        "--state-file",
        default=os.environ.get("STRIPE_LOCAL_STATE_FILE") or None,
        help="keep state in this JSON file across restarts",
    )
    parser.add_argument(
        "--retry-delays",
        default=os.environ.get("STRIPE_LOCAL_RETRY_DELAYS", ""),
        help="comma-separated webhook retry delays in seconds, e.g. 0.2,0.5,1,2",
    )
    parser.add_argument(
        "--public-url",
        default=os.environ.get("STRIPE_LOCAL_PUBLIC_URL") or None,
        help="base URL browsers use to reach this server (default: the request's Host)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    delays = tuple(float(d) for d in args.retry_delays.split(",") if d.strip()) or None
    server = make_server(
        args.host,
        args.port,
        state_file=args.state_file,
        retry_delays=delays,
        public_url=args.public_url,
        verbose=args.verbose,
    )
    print(f"stripe_local listening on {server.base_url}", flush=True)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.state.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
