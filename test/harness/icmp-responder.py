#!/usr/bin/env python3
"""An ICMP echo responder that misbehaves on purpose, for ping tests (netem is not always available).

Run inside a network namespace whose kernel ignores echoes (net.ipv4.icmp_echo_ignore_all=1). The one
argument is a JSON plan, every key optional:
  duplicateAfterMs: N      answer every echo twice, the copy N ms after the first reply
  delayMs: {"seq": N}      answer echo `seq` N ms late
  drop: [seq, ...]         never answer these echoes
  stray: {"seq": S}        after answering echo `seq`, also send a reply numbered S (never asked for)
Prints "ready" once its raw socket is open; replies keep the request's identifier and payload, so
ping computes their RTT from its own timestamp.
"""
import heapq
import json
import select
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_reply(request: bytes, seq: int) -> bytes:
    ident = struct.unpack("!H", request[4:6])[0]
    body = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + request[8:]
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def main() -> None:
    plan = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    dup_ms = plan.get("duplicateAfterMs")
    delays = {int(k): v for k, v in plan.get("delayMs", {}).items()}
    drop = set(plan.get("drop", []))
    stray = {int(k): v for k, v in plan.get("stray", {}).items()}

    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("ready", flush=True)
    queue: list = []  # (due, order, packet, destination)
    order = 0

    def send_at(due: float, packet: bytes, dst: str) -> None:
        nonlocal order
        order += 1
        heapq.heappush(queue, (due, order, packet, dst))

    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select([sock], [], [], timeout)
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, packet, dst = heapq.heappop(queue)
            sock.sendto(packet, (dst, 0))
        if not readable:
            continue
        data, (src, _) = sock.recvfrom(65535)
        icmp = data[(data[0] & 0x0F) * 4 :]
        if len(icmp) < 8 or icmp[0] != 8:  # echo requests only
            continue
        seq = struct.unpack("!H", icmp[6:8])[0]
        if seq in drop:
            continue
        due = now + delays.get(seq, 0) / 1000
        send_at(due, echo_reply(icmp, seq), src)
        if dup_ms is not None:
            send_at(due + dup_ms / 1000, echo_reply(icmp, seq), src)
        if seq in stray:
            send_at(due, echo_reply(icmp, stray[seq]), src)


if __name__ == "__main__":
    main()
