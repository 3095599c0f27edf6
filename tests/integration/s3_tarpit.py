#!/usr/bin/python3
"""s3_tarpit.py - an "S3" that never answers, for
tests/integration/test_server_s3stall.sh: a TCP listener on 127.0.0.1 that
accepts every connection and writes nothing, ever. What clients send is read
and dropped, so that an upload never blocks on a full socket buffer; a
connection stays open until the client closes it. Each accepted connection
is logged as "accept UNIX_TIME" to LOG.
usage: s3_tarpit.py PORTFILE LOG"""
import os
import selectors
import socket
import sys
import time

PORTFILE, LOG = sys.argv[1], sys.argv[2]
sel = selectors.DefaultSelector()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(512)
ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(PORTFILE + ".tmp", PORTFILE)

while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            try:
                c, _ = ls.accept()
            except BlockingIOError:
                continue
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
            with open(LOG, "a") as f:
                f.write("accept %.3f\n" % time.time())
            continue
        try:
            data = s.recv(65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(s)
            s.close()
