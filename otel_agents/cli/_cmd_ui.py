"""``otel-agents ui``: serve the read-only web UI over the store on 127.0.0.1."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import threading
from typing import Any

from otel_agents.cli._common import CliError, add_home, home_of, progress

EXAMPLE = """example:
  otel-agents ui                       # http://127.0.0.1:8765/, Ctrl-C stops
  otel-agents ui --port 9000 --open    # and open it in the default browser
  otel-agents ui --host 0.0.0.0 --allow-remote --token "$(openssl rand -hex 16)"
"""
DEFAULT_PORT = 8765


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ui",
        help="browse runs, traces, the agent graph and stats in a local web UI (read-only)",
        description=(
            "Serve a read-only web UI over the store. It listens on 127.0.0.1 only, unless --host"
            " names another address, which also needs --allow-remote and a --token that every"
            " request must carry."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)"
    )
    p.add_argument("--open", action="store_true", help="open the UI in the default browser")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host (needs --token)")
    p.add_argument("--token", help="require this token on every request (?token=... once, then a cookie)")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    remote = not is_loopback(args.host)
    if remote and not args.allow_remote:
        raise CliError(
            f"--host {args.host} is reachable from other machines: add --allow-remote and --token", code=2
        )
    if remote and not args.token:
        raise CliError("a non-loopback --host needs --token (every request must carry it)", code=2)
    if args.token is not None and len(args.token) < 8:
        raise CliError("--token must be at least 8 characters", code=2)
    try:
        import uvicorn

        from otel_agents.ui import create_app
    except ImportError as exc:
        raise CliError(
            f"the UI needs the 'ui' extra: pip install 'otel-agents[ui]' ({exc.name} missing)"
        ) from None
    home = home_of(args)
    # Any Host header is fine on a remote bind (the token guards it); on loopback only loopback names.
    hosts = ["*"] if remote else ["127.0.0.1", "localhost", "::1"]
    app = create_app(home, token=args.token, allowed_hosts=hosts)
    # Our own socket: a port in use is one clear error line, and the printed URL has the real port.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        raise CliError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} (try another --port)"
        ) from None
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    def announce() -> None:
        # Wait for the socket, so the printed URL (and --open) point at a listening server.
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if not server.started:
            return
        shown = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{shown}:{port}/" + (f"?token={args.token}" if args.token else "")
        print(f"otel-agents ui: {url}  (store {home}, read-only; Ctrl-C stops)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(url)

    threading.Thread(target=announce, name="otel-agents-ui-announce", daemon=True).start()
    progress(f"otel-agents ui: starting on {args.host}:{port}")
    server.run(sockets=[sock])
    return 0
