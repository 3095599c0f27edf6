#!/usr/bin/python3
"""fake_sessd.py SOCKET CONTROL - a stand-in for actlogd's session socket:
answers a helper's hello with a welcome, then sends each line written to
the CONTROL fifo as a policy message ({"type":"policy","policy":LINE})."""
import json
import os
import socket
import sys
import threading

sock, ctl = sys.argv[1], sys.argv[2]
policy = {"apps.titles": False}
conns = []
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock)
srv.listen(4)


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


threading.Thread(target=control, daemon=True).start()
while True:
    c, _ = srv.accept()
    f = c.makefile("r")
    if f.readline():
        c.sendall((json.dumps({"type": "welcome", "v": 1, "policy": policy}) + "\n").encode())
        conns.append(c)
