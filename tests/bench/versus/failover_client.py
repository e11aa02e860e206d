#!/usr/bin/python3
"""Failover client of tests/bench/versus/run.sh (runs inside the client namespace).

Each client is one source address (bound explicitly) that opens a new TCP connection to the target every PERIOD,
sends one HTTP request with "Connection: close", reads the answer to the end and resets the connection (SO_LINGER 0).
An attempt without a complete answer within TIMEOUT counts as an error. The answer's "X-Backend" header names the
backend that answered. At KILL_AT seconds after the start the client sends SIGKILL to the given PIDs itself, so the
kill instant and the attempts share one clock. Prints one JSON object with the figures to stdout.

Per client: "affected" = it had a failed attempt after the kill, or its last answer before the kill came from a killed
backend (--killed NAME), or --all-affected (the killed component carries every connection, e.g. the active load
balancer). Time to first success = kill -> end of the first complete answer from a backend that was not killed, among
the attempts started after the client's last failed attempt (or after the kill). Errors = failed attempts that ended
after the kill.
"""
import argparse
import json
import os
import signal
import socket
import struct
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--sources", required=True, help="comma-separated source addresses, one client each")
    p.add_argument("--period-ms", type=float, default=20)
    p.add_argument("--timeout-ms", type=float, default=250)
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument("--kill-at", type=float, default=2)
    p.add_argument("--kill-pids", default="", help="comma-separated PIDs to SIGKILL at --kill-at")
    p.add_argument("--killed", default="", help="comma-separated backend names that die with the kill")
    p.add_argument("--all-affected", action="store_true")
    a = p.parse_args()

    sources = [s for s in a.sources.split(",") if s]
    killed = set(n for n in a.killed.split(",") if n)
    request = ("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % a.target).encode()
    linger = struct.pack("ii", 1, 0)
    start = time.time()
    end = start + a.seconds
    kill_time = [None]
    logs = [[] for _ in sources]  # (t_start, t_end, backend or None)

    def client(i, src):
        nxt = start + (i / len(sources)) * a.period_ms / 1000
        log = logs[i]
        while True:
            now = time.time()
            if now >= end:
                return
            if nxt > now:
                time.sleep(nxt - now)
            nxt += a.period_ms / 1000
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            backend = None
            t_start = time.time()
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                s.bind((src, 0))
                s.settimeout(a.timeout_ms / 1000)
                s.connect((a.target, a.port))
                s.sendall(request)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                if head.startswith(b"HTTP/1.1 200") and body == b"ok\n":
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"x-backend:"):
                            backend = line.split(b":", 1)[1].strip().decode()
                    backend = backend or "?"
            except OSError:
                backend = None
            finally:
                s.close()
            log.append((t_start, time.time(), backend))

    threads = [threading.Thread(target=client, args=(i, s), daemon=True) for i, s in enumerate(sources)]
    for t in threads:
        t.start()
    pids = [int(x) for x in a.kill_pids.split(",") if x]
    time.sleep(max(0, start + a.kill_at - time.time()))
    kill_time[0] = time.time()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for t in threads:
        t.join()

    k = kill_time[0]
    firsts, errors, clients_with_errors, never, affected = [], 0, 0, 0, 0
    attempts = sum(len(l) for l in logs)
    answered_by = {}
    for log in logs:
        before = [b for _, t, b in log if t < k and b is not None]
        after = [(t0, t, b) for t0, t, b in log if t >= k]
        failed = [t0 for t0, _, b in after if b is None]
        errors += len(failed)
        clients_with_errors += 1 if failed else 0
        for _, _, b in after:
            if b is not None:
                answered_by[b] = answered_by.get(b, 0) + 1
        if not (failed or a.all_affected or (before and before[-1] in killed)):
            continue
        affected += 1
        since = max([k] + failed)
        ok = [t for t0, t, b in after if t0 >= since and b is not None and b not in killed]
        if not failed:
            ok = [t for _, t, b in after if b is not None and b not in killed]
        if ok:
            firsts.append((ok[0] - k) * 1000)
        else:
            never += 1
    firsts.sort()

    def pct(q):
        if not firsts:
            return None
        return round(firsts[min(len(firsts) - 1, int(q * len(firsts)))], 1)

    print(json.dumps({
        "clients": len(sources), "attempts": attempts, "affected": affected,
        "first_success_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": round(firsts[-1], 1) if firsts else None},
        "errors_after_kill": errors, "clients_with_errors": clients_with_errors, "never_served_again": never,
        "answers_after_kill_by_backend": answered_by, "kill_epoch": k,
    }))


if __name__ == "__main__":
    main()
