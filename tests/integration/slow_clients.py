#!/usr/bin/python3
"""slow_clients.py MODE ... - misbehaving HTTP clients for the server's
connection and body limits, all connecting to 127.0.0.1:PORT.

  slow PORT N SECONDS STATUSFILE
      Opens N connections that send a request line and one
      header, then one more header line on every connection each second
      (headers never complete), for SECONDS. STATUSFILE is rewritten each
      second with "open=K closed=C": connections still open, connections the
      server has closed.

  bigbody PORT N PATH LENGTH AUTH STATUSFILE
      Opens N connections that each send POST PATH with Content-Length LENGTH
      (AUTH, when not "-", as the Authorization header), wait up to 2 s for an
      early answer, then send LENGTH - 1 body bytes (never the last one) and
      hold the connection. STATUSFILE gets one line per connection: the
      status of the early answer ("none" when there was none) and whether the
      server closed the connection; then "sent" once every body is sent. The
      process stays until killed.
"""
import os
import select
import socket
import sys
import time


def closed(s):
    """True when the peer has closed s (EOF or reset); drains readable data."""
    try:
        p = select.poll()
        p.register(s, select.POLLIN)
        if not p.poll(0):
            return False
        return s.recv(65536) == b""
    except OSError:
        return True


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def slow(port, n, seconds, status):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(True)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    live = list(socks)
    end = time.time() + seconds
    i = 0
    while True:
        still = []
        for s in live:
            if closed(s):
                s.close()
                continue
            try:
                s.send(b"X-%d: y\r\n" % i)
                still.append(s)
            except OSError:
                s.close()
        live = still
        write(status, "open=%d closed=%d\n" % (len(live), n - len(live)))
        if time.time() >= end:
            break
        time.sleep(1)
        i += 1
    for s in live:
        s.close()


def bigbody(port, n, path, length, auth, status):
    socks, lines = [], []
    head = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" % path
    if auth != "-":
        head += "Authorization: %s\r\n" % auth
    head += "Content-Length: %d\r\n\r\n" % length
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        s.sendall(head.encode())
        socks.append(s)
    for s in socks:
        p = select.poll()
        p.register(s, select.POLLIN)
        early = "none"
        if p.poll(2000):
            try:
                data = s.recv(4096)
                if data.startswith(b"HTTP/1."):
                    early = data.split(b" ")[1].decode()
            except OSError:
                pass
        lines.append(early)
    chunk = b"x" * (1 << 20)
    for s in socks:
        left = length - 1
        try:
            while left > 0:
                k = s.send(chunk[: min(left, len(chunk))])
                left -= k
        except OSError:
            pass
    time.sleep(1)
    out = ["%s closed=%d" % (e, closed(s)) for e, s in zip(lines, socks)]
    write(status, "\n".join(out) + "\nsent\n")
    while True:
        time.sleep(60)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "slow":
        slow(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif mode == "bigbody":
        bigbody(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6],
                sys.argv[7])
    else:
        sys.exit("unknown mode " + mode)
