#!/usr/bin/env python3
"""Round trips under latency, run by scripts/bench-latency.sh.

Runs the same sequence of t3s3 commands twice, each time against a fresh moto behind
bench/latency_proxy.py: once with no added latency, once at RTT. For each command it
prints the wall time at RTT, the requests and connections the proxy saw, the raw depth
(wall / RTT) and the depth net of the time the command takes with no latency at all
(t3s3's own work and moto's): (wall at RTT - wall at 0) / RTT, the round trips waited
for one after another.

    latency.py T3S3_BINARY RTT_MS
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T3S3, RTT = sys.argv[1], float(sys.argv[2])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def suite(rtt):
    """Runs the commands at `rtt`; returns {label: (wall_ms, requests, connections)}."""
    moto_port, proxy_port = free_port(), free_port()
    moto = subprocess.Popen([f"{REPO}/.venv/bin/moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen([sys.executable, f"{REPO}/bench/latency_proxy.py", str(moto_port), str(proxy_port), str(rtt)])
    results = {}
    try:
        wait_for(moto_port)
        wait_for(proxy_port)
        endpoint = f"http://127.0.0.1:{proxy_port}"
        work = tempfile.mkdtemp()
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        os.makedirs(f"{work}/backend")
        os.makedirs(f"{work}/warm")

        def run(label, *args, ok=(0,)):
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/__reset", method="POST")).read()
            start = time.perf_counter()
            done = subprocess.run([T3S3, *args], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wall = (time.perf_counter() - start) * 1000
            if done.returncode not in ok:
                sys.exit(f"{label} failed ({done.returncode}): {done.stderr.decode()}")
            stats = json.loads(urllib.request.urlopen(f"{endpoint}/__stats").read())
            if label:
                results[label] = (wall, stats["requests"], stats["connections"])

        # moto answers the first request to each of its services slowly (it loads them then).
        # The warm-up has a group of its own: sharing t3-chat-s3 would give the measured user a
        # second policy through it, which the guide's layout does not have (doctor would read
        # that policy too: two more rounds; BENCH_SHARED_GROUP=1 measures that case).
        group = [] if os.environ.get("BENCH_SHARED_GROUP") == "1" else ["--group", "warmup-s3"]
        run(None, "--endpoint-url", endpoint, "--region", "ap-south-1", "init", "--create-user", "--no-verify",
            "--user", "warmup", "--bucket", "t3-chat-documents-warmup", "--policy-name", "WarmupPolicy",
            *group, "--env-file", "warm/.env")
        run("init, fresh (--no-verify)", "--endpoint-url", endpoint, "--region", "ap-south-1", "init",
            "--create-user", "--no-verify", "--bucket", "t3-chat-documents-latency")
        run("init, converged (--no-verify)", "--endpoint-url", endpoint, "init", "--no-verify")
        run("verify", "verify")
        run("doctor", "doctor", ok=(0, 1))  # moto has no root MFA: doctor exits 1 there by design
        run("rotate-key (with its self-test)", "rotate-key", "--now", "--yes")
        run("destroy", "destroy", "--force", "--yes")
    finally:
        proxy.kill()
        moto.kill()
    return results


env = dict(os.environ)
base = suite(0)
slow = suite(RTT)
print(f"RTT {RTT:.0f} ms, each new connection one RTT more; {os.path.basename(os.path.dirname(T3S3))} build")
print()
print("| command | wall at RTT | wall at 0 | depth (wall / RTT) | depth net of the work at 0 | requests | connections |")
print("|---|---|---|---|---|---|---|")
for label, (wall, requests, connections) in slow.items():
    zero = base[label][0]
    print(f"| {label} | {wall:.0f} ms | {zero:.0f} ms | {wall / RTT:.1f} | {(wall - zero) / RTT:.1f} | {requests} | {connections} |")
