"""A real HTTP server on 127.0.0.1 serving pages a test sets (and changes between crawls)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PagesServer:
    """`pages[path] = (status, body)` or `(status, body, {header: value})`; other paths answer 404.

    A body is text (sent as UTF-8 HTML unless the headers name another Content-Type) or bytes.
    `arrivals` lists (time.monotonic(), path) of every request as it came in.
    """

    def __init__(self) -> None:
        self.pages: dict[str, tuple] = {}
        self.held: set[str] = set()  # paths that wait for `release` before they are answered
        self.release = threading.Event()
        self.arrivals: list[tuple[float, str]] = []
        pages, server = self.pages, self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                server.arrivals.append((time.monotonic(), self.path))
                if self.path in server.held:
                    server.release.wait(300)
                status, body, *rest = pages.get(self.path, (404, "<html><body>Not here</body></html>"))
                headers = {"Content-Type": "text/html; charset=utf-8", **(rest[0] if rest else {})}
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                data = body if isinstance(body, bytes) else body.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "PagesServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
