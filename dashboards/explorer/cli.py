"""`adwatch explorer [--port P] [--host H] [--images DIR]`: serve the analyst's web page (waitress).

It says at start which cluster it reads and how people get in: on a cluster that answers without
credentials (the embedded node) nobody signs in and it listens on 127.0.0.1 only; on a secured
cluster every analyst signs in with their own Elasticsearch user or API key.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from rich.console import Console

from adwatch.config import load_settings
from adwatch.errors import UserError

out = Console()
log = logging.getLogger(__name__)
DEFAULT_PORT = 8780
THREADS = 4


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is 0-65535 (0: any free port), got {value}")
    return value


def _explorer(args: argparse.Namespace) -> int:
    from waitress.server import create_server  # the web stack loads only for this command

    from dashboards.explorer.access import Access, check_listen_address
    from dashboards.explorer.app import create_app

    settings = load_settings()
    images = Path(args.images) if args.images else settings.image_dir
    if not images.is_dir():
        raise UserError(f"--images {images}: no such directory; give the crawler's image store (default "
                        "<cache>/images), or photos cannot be shown.")
    access = Access(settings)
    check_listen_address(args.host, access.open)
    try:
        server = create_server(create_app(access, images), host=args.host, port=args.port, threads=THREADS,
                               ident="adwatch-explorer")
    except OSError as exc:
        raise UserError(f"--port {args.port}: cannot listen on {args.host}:{args.port} ({exc.strerror}); "
                        "choose another port (0 picks a free one).") from exc
    url = f"http://{args.host}:{server.effective_port}/"
    if access.open:
        out.print(f"Elasticsearch at {access.url} answers without credentials (security off): nobody signs in, "
                  "so the explorer listens on 127.0.0.1 only.", highlight=False, soft_wrap=True)
    else:
        out.print(f"Elasticsearch at {access.url} is secured: each analyst signs in with their own user or API key, "
                  "and their roles decide what they see.", highlight=False, soft_wrap=True)
        if args.host != "127.0.0.1":
            out.print("This is plain HTTP: serve it to other machines only behind a TLS proxy.", highlight=False, soft_wrap=True)
    out.print(f"AdWatch explorer for index prefix {access.prefix!r} at {url} (Ctrl-C stops it).", highlight=False, soft_wrap=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def register(sub) -> None:
    explorer = sub.add_parser("explorer", help="the analyst's web page: evidence graphs, blurred photos, case files")
    explorer.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    explorer.add_argument("--host", default="127.0.0.1",
                          help="address to listen on (default 127.0.0.1; others only for a secured Elasticsearch)")
    explorer.add_argument("--images", default=None, help="the crawler's image store (default <cache>/images)")
    explorer.set_defaults(func=_explorer)
