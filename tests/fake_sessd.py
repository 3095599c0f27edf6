#!/usr/bin/python3
"""fake_sessd.py SOCKET CONTROL [SHOTDIR] - a stand-in for actlogd's session
socket: answers a helper's hello with a welcome, then sends each line
written to the CONTROL fifo as a policy message ({"type":"policy",
"policy":LINE}). Shots ({"type":"shot",...} with a memfd attached) are
saved to SHOTDIR as TAKEN_AT-N-MONITOR.png when the fd is sealed and holds
"size" bytes; anything else is logged to stderr and counted in
SHOTDIR/bad. Each focus message is printed to stderr as "focus JSON", and
with $FAKE_SESSD_FOCUS set also appended to that file, one JSON line each."""
import array
import fcntl
import json
import os
import socket
import sys
import threading

sock, ctl = sys.argv[1], sys.argv[2]
shotdir = sys.argv[3] if len(sys.argv) > 3 else None
focus_log = os.environ.get("FAKE_SESSD_FOCUS")
policy = {"apps.titles": False}
conns = []
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock)
srv.listen(4)
F_GET_SEALS = 1034
ALL_SEALS = 0x1 | 0x2 | 0x4 | 0x8  # SEAL, SHRINK, GROW, WRITE


def control():
    global policy
    while True:
        with open(ctl) as f:
            for line in f:
                policy = json.loads(line)
                for c in list(conns):
                    try:
                        c.sendall((json.dumps({"type": "policy", "policy": policy}) + "\n").encode())
                    except OSError:
                        conns.remove(c)


def bad(why):
    print("fake_sessd: bad shot: " + why, file=sys.stderr, flush=True)
    if shotdir:
        with open(os.path.join(shotdir, "bad"), "a") as f:
            f.write(why + "\n")


def save(m, fd, n):
    try:
        seals = fcntl.fcntl(fd, F_GET_SEALS)
        if seals & ALL_SEALS != ALL_SEALS:
            return bad("fd not sealed (%#x)" % seals)
        size = os.fstat(fd).st_size
        if size != m.get("size"):
            return bad("size %d, message says %s" % (size, m.get("size")))
        data = os.pread(fd, size, 0)
        if not shotdir:
            return
        name = "%015d-%d-%s.png" % (m["taken_at"], n, m["monitor"])
        tmp = os.path.join(shotdir, "." + name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(shotdir, name))
    finally:
        os.close(fd)


def serve(c):
    buf, fds, n = b"", [], 0
    while True:
        fda = array.array("i")
        try:
            data, anc, _, _ = c.recvmsg(8192, socket.CMSG_SPACE(16 * fda.itemsize))
        except OSError:
            return
        if not data:
            return
        for level, typ, cd in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fda.frombytes(cd[: len(cd) - (len(cd) % fda.itemsize)])
        fds.extend(fda)
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            m = json.loads(line)
            if m.get("type") == "hello":
                c.sendall((json.dumps({"type": "welcome", "v": 1, "policy": policy}) + "\n").encode())
                conns.append(c)
            elif m.get("type") == "focus":
                print("focus " + json.dumps(m, sort_keys=True), file=sys.stderr, flush=True)
                if focus_log:
                    with open(focus_log, "a") as f:
                        f.write(json.dumps(m) + "\n")
            elif m.get("type") == "shot":
                if not fds:
                    bad("no fd with the message")
                    continue
                save(m, fds.pop(0), n)
                n += 1


threading.Thread(target=control, daemon=True).start()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
