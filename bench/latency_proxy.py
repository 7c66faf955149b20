#!/usr/bin/env python3
"""A loopback proxy that makes moto look as far away as AWS.

Keeps client connections alive, as AWS endpoints do (moto itself answers
`Connection: close`), and delays every request by one round trip (RTT) and the first
request of every new connection by one more (the TCP and TLS handshakes). Counts
requests and connections; `GET /__stats` reads the counts, `POST /__reset` zeroes them.

    latency_proxy.py UPSTREAM_PORT LISTEN_PORT RTT_MS
"""
import asyncio
import json
import sys

UPSTREAM = ("127.0.0.1", int(sys.argv[1]))
LISTEN = int(sys.argv[2])
RTT = float(sys.argv[3]) / 1000.0
stats = {"requests": 0, "connections": 0}
TRACE = len(sys.argv) > 4


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head, body


def answer(status, payload):
    body = json.dumps(payload).encode()
    return b"HTTP/1.1 %d OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (status, len(body), body)


async def forward(head, body):
    """One request upstream on its own connection; the answer re-framed for keep-alive."""
    reader, writer = await asyncio.open_connection(*UPSTREAM)
    lines = [l for l in head.rstrip(b"\r\n").split(b"\r\n") if not l.lower().startswith(b"connection:")]
    writer.write(b"\r\n".join(lines) + b"\r\nconnection: close\r\n\r\n" + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    split = data.index(b"\r\n\r\n") + 4
    answer_head, answer_body = data[:split], data[split:]
    is_head = head.startswith(b"HEAD ")
    kept = []
    for line in answer_head.rstrip(b"\r\n").split(b"\r\n"):
        lower = line.lower()
        framing = lower.startswith(b"content-length:") or lower.startswith(b"transfer-encoding:")
        if lower.startswith(b"connection:") or (framing and not is_head):
            continue
        kept.append(line)
    if not is_head:
        kept.append(b"content-length: %d" % len(answer_body))
    return b"\r\n".join(kept) + b"\r\n\r\n" + answer_body


async def handle(reader, writer):
    new_connection = True
    counted = False
    try:
        while True:
            try:
                head, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            if head.startswith(b"GET /__stats"):
                writer.write(answer(200, stats))
                await writer.drain()
                continue
            if head.startswith(b"POST /__reset"):
                stats.update(requests=0, connections=0)
                writer.write(answer(200, stats))
                await writer.drain()
                continue
            if not counted:
                stats["connections"] += 1
                counted = True
            stats["requests"] += 1
            if TRACE:
                action = body.split(b"Action=")[1].split(b"&")[0].decode() if b"Action=" in body else ""
                now = asyncio.get_running_loop().time()
                print(f"{now % 1000:8.3f} conn {id(writer) % 997:3d} {head.split(b' ', 2)[1][:60].decode()} {action}", file=sys.stderr, flush=True)
            await asyncio.sleep(RTT * (2 if new_connection else 1))
            new_connection = False
            writer.write(await forward(head, body))
            await writer.drain()
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()


asyncio.run(main())
