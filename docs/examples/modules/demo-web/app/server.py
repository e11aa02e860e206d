#!/usr/bin/env python3
"""demo-web's application: a small HTTP server.

GET /node answers with the node's name (which node served the client), any other path is a file
of the www folder (health.txt for the checkers). Every request is logged on one line to standard
output, starting with the time in Unix milliseconds, so a test can tell exactly when the node first
accepted a client:  1732240000123 198.18.1.7 GET /node 200
"""
import argparse
import http.server
import os
import signal
import sys
import time


def log(line):
    sys.stdout.write(f"{int(time.time() * 1000)} {line}\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--root", required=True, help="the folder served (www)")
    parser.add_argument("--node", default=os.uname().nodename, help="the name GET /node answers")
    args = parser.parse_args()
    node = args.node.encode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=args.root, **kw)

        def do_GET(self):
            if self.path == "/node":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(node) + 1))
                self.end_headers()
                self.wfile.write(node + b"\n")
                return
            super().do_GET()

        def log_request(self, code="-", size="-"):
            log(f"{self.client_address[0]} {self.command} {self.path} {code}")

        def log_message(self, format, *a):
            pass  # errors of single requests: not worth a line

    class Server(http.server.ThreadingHTTPServer):
        # The listen backlog. socketserver's default of 5 makes the kernel drop, unanswered, every SYN that finds 6
        # connections waiting to be accepted: a burst of clients (a failover, a node's return) then waits for SYN
        # retransmits (1 s, 3 s, ...), and each dropped SYN leaves a conntrack entry SYN_SENT [UNREPLIED] for 2
        # minutes. The kernel caps it at net.core.somaxconn (4096).
        request_queue_size = 4096

    server = Server((args.bind, args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: (log("stopping (SIGTERM)"), os._exit(0)))
    log(f"listening on {args.bind}:{args.port} as {args.node} (pid {os.getpid()})")
    server.serve_forever(poll_interval=0.1)  # SIGTERM is handled between polls


if __name__ == "__main__":
    main()
