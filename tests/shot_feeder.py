#!/usr/bin/python3
"""shot_feeder.py SOCKET [OPTIONS] - a stand-in for actlog-session that sends
screenshots to actlogd's session socket: hello, wait for the welcome (and,
with --wait-on, for a policy with screenshots on), then one shot message per
PNG with a sealed memfd attached (SCM_RIGHTS). Prints one JSON line per
shot: {"sha256","size","width","height","ack":{...}}; a refusal of the
connection prints it and exits 3.

  --count N        shots to send (default 1); each PNG differs
  --width W --height H   the PNG's size (default 64x48)
  --say-width W    announce another width than the PNG's (dims mismatch)
  --unsealed       do not seal the memfd
  --not-png        random bytes instead of a PNG
  --no-fd          no descriptor with the message
  --say-size N     announce N bytes (size mismatch / over the cap)
  --big N          a sealed memfd of N bytes (sparse), announced as N
  --wait-on        wait until the policy turns screenshots on
  --policy-only    print the welcome's policy ({"policy":{...}}) and send nothing
  --seed S         vary the pixels
"""
import argparse
import array
import fcntl
import hashlib
import json
import os
import socket
import struct
import sys
import time
import zlib

F_ADD_SEALS = 1033
SEALS = 0x1 | 0x2 | 0x4 | 0x8


def png(w, h, seed):
    rnd = hashlib.sha256(("%s" % seed).encode()).digest()
    rows = b"".join(b"\0" + bytes((rnd[(x + y) % 32] ^ x ^ y) & 0xFF for x in range(w * 3)) for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def send(self, obj, fd=None):
        data = (json.dumps(obj) + "\n").encode()
        if fd is None:
            self.s.sendall(data)
        else:
            self.s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])

    def recv(self, timeout):
        end = time.time() + timeout
        while b"\n" not in self.buf:
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(4096)
            except socket.timeout:
                return None
            except OSError:
                d = b""
            if not d:
                return {"type": "closed"}
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--height", type=int, default=48)
    ap.add_argument("--say-width", type=int)
    ap.add_argument("--say-size", type=int)
    ap.add_argument("--big", type=int)
    ap.add_argument("--unsealed", action="store_true")
    ap.add_argument("--not-png", action="store_true")
    ap.add_argument("--no-fd", action="store_true")
    ap.add_argument("--wait-on", action="store_true")
    ap.add_argument("--policy-only", action="store_true")
    ap.add_argument("--seed", default=str(time.time()))
    a = ap.parse_args()
    c = Conn(a.socket)
    try:
        c.send({"type": "hello", "v": 1, "display": "", "desktop": "x11", "source": "test"})
    except OSError:
        pass  # refused and closed already: the reason is waiting to be read
    on = False
    m = c.recv(10)
    if not m or m.get("type") != "welcome":
        print(json.dumps({"refused": m}))
        sys.exit(3)
    on = m["policy"].get("screenshots.enabled", False)
    if a.policy_only:
        print(json.dumps({"policy": m["policy"]}), flush=True)
        return
    end = time.time() + 60
    while a.wait_on and not on and time.time() < end:
        m = c.recv(1)
        if m and m.get("type") == "policy":
            on = m["policy"].get("screenshots.enabled", False)
    if a.wait_on and not on:
        print(json.dumps({"error": "screenshots never turned on"}))
        sys.exit(4)
    for i in range(a.count):
        if a.big:
            data = None
        elif a.not_png:
            data = os.urandom(5000)
        else:
            data = png(a.width, a.height, "%s-%d" % (a.seed, i))
        fd = os.memfd_create("shot", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        if data is None:
            os.ftruncate(fd, a.big)
            size = a.big
            digest = ""
        else:
            os.write(fd, data)
            size = len(data)
            digest = hashlib.sha256(data).hexdigest()
        if not a.unsealed:
            fcntl.fcntl(fd, F_ADD_SEALS, SEALS)
        msg = {"type": "shot", "taken_at": int(time.time() * 1000), "monitor": "TEST-%d" % i,
               "width": a.say_width or a.width, "height": a.height, "size": a.say_size or size}
        c.send(msg, None if a.no_fd else fd)
        os.close(fd)
        ack = None
        while True:
            ack = c.recv(30)
            if ack is None or ack.get("type") in ("shot_ack", "refused", "closed"):
                break
        print(json.dumps({"sha256": digest, "size": size, "width": a.width, "height": a.height,
                          "ack": ack}), flush=True)


main()
