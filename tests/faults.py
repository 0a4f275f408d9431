"""A fault-injecting HTTP server on 127.0.0.1 for the scraper tests.

Paths under /f/NAME.gif misbehave according to NAME (see FaultHandler.do_GET); story pages
are served from a dict. Every request is logged with its time.
"""

from __future__ import annotations

import http.server
import io
import socket
import struct
import threading
import time

import numpy as np
from PIL import Image


def gif(seed: int, size=(64, 48)) -> bytes:
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.quantize(16).save(buf, format="GIF")
    return buf.getvalue()


SMALL = gif(1)
BIG = gif(2, size=(400, 300))


def panel(name: str) -> str:
    return f'<img class="mar-x-auto disp-bl" src="/f/{name}.gif">'


PAGES = {
    "/story/1": panel("ok") + panel("flaky") + panel("ratelimited"),
    "/story/2": panel("reset") + panel("slow") + panel("truncated"),
    "/story/3": panel("html") + panel("offsite") + panel("big"),
    "/story/5": "".join(
        f'<img class="mar-x-auto disp-bl" src="{src}">'
        for src in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "/images/../../../etc/passwd",
            "https://evil.test/a.gif",
            "..\\\\..\\\\windows\\\\x.gif",
        ]
    ),
    "/story/6": panel("moved") + "<p>no other panel</p>",
    "/story/7": "<html><body><p>a flash page</p></body></html>",
}

#: Expected manifest status of each image of the pages above (page 4 is a 404 gap).
EXPECTED = {
    "1_1": "ok",
    "1_2": "ok",
    "1_3": "ok",
    "2_1": "connection_error",
    "2_2": "timeout",
    "2_3": "truncated",
    "3_1": "not_an_image",
    "3_2": "redirect_offsite",
    "3_3": "too_large",
    "5_1": "refused_src",
    "5_2": "refused_src",
    "5_3": "refused_src",
    "5_4": "refused_src",
    "5_5": "refused_src",
    "6_1": "ok",
}
MAX_BYTES = 20_000  # BIG exceeds it, SMALL does not


class FaultServer:
    def __init__(self):
        self.log: list[tuple[float, str]] = []
        self.counts: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send_body(self, status, body, ctype="image/gif", headers=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def redirect(self, status, location):
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802
                path = self.path
                server.log.append((time.monotonic(), path))
                n = server.counts[path] = server.counts.get(path, 0) + 1
                if path in PAGES:
                    return self.send_body(200, PAGES[path].encode(), "text/html")
                name = path.removeprefix("/f/").removesuffix(".gif")
                if name in ("ok", "ok2"):
                    return self.send_body(200, SMALL)
                if name == "flaky":
                    return (
                        self.send_body(500, b"oops", "text/plain")
                        if n == 1
                        else self.send_body(200, SMALL)
                    )
                if name == "ratelimited":
                    if n == 1:
                        return self.send_body(
                            429, b"slow down", "text/plain", [("Retry-After", "1")]
                        )
                    return self.send_body(200, SMALL)
                if name == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return None
                if name == "slow":
                    time.sleep(2.0)
                    return self.send_body(200, SMALL)
                if name == "truncated":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/gif")
                    self.send_header("Content-Length", "5000")
                    self.end_headers()
                    self.wfile.write(SMALL[:100])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return None
                if name == "html":
                    return self.send_body(200, b"<html><body>Not found</body></html>", "text/html")
                if name == "offsite":
                    return self.redirect(302, "http://elsewhere.invalid/x.gif")
                if name == "moved":
                    return self.redirect(301, "/f/ok2.gif")
                if name == "big":
                    return self.send_body(200, BIG)
                return self.send_body(404, b"not found", "text/plain")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # resets and timeouts are the point here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def requests_for(self, path: str) -> list[float]:
        return [t for t, p in self.log if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
