"""A test HTTP server on 127.0.0.1 at a free port, served from a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    """`with LocalServer(Handler) as server:` serves `Handler` at `server.url` until the block
    ends. Only the loopback address is ever bound."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def text_site(answer) -> LocalServer:
    """A LocalServer whose GET answers come from `answer(path, root)` -> (status, text,
    content type); `root` is the server's own http://127.0.0.1:port."""

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            status, text, kind = answer(self.path, f"http://127.0.0.1:{self.server.server_port}")
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return LocalServer(Site)
