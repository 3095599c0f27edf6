#!/usr/bin/python3
"""mock_portal.py - a stand-in xdg-desktop-portal with the ScreenCast
interface, on the session bus in $DBUS_SESSION_BUS_ADDRESS, for
tests/integration/test_pipewire.sh. Debian's python3-dbus and python3-gi.

  mock_portal.py --log FILE --pw-socket PATH --node ID [--node ID ...]
                 [--start ok|cancel|deny] [--version N] [--size WxH]
                 [--cursor-modes BITS]

Implements what actlog-session uses: the `version` and
AvailableCursorModes properties; CreateSession, SelectSources, Start
(answered through Request objects whose Response signal is sent BEFORE the
method's reply, as a portal may: a client that subscribes late misses it);
OpenPipeWireRemote (a real fd: a new connection to the PipeWire socket);
Session.Close. Start answers --start: ok (response 0 with one stream per
--node and a fresh restore_token), cancel (1) or deny (2).

Every call is appended to --log as one JSON line: method, the options
received (restore_token, persist_mode, types, multiple, cursor_mode...),
the request path it answered on, and the token it handed out.
"""
import argparse
import json
import socket
import sys
import uuid

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
SC = "org.freedesktop.portal.ScreenCast"
REQ = "org.freedesktop.portal.Request"
SESS = "org.freedesktop.portal.Session"
PROPS = "org.freedesktop.DBus.Properties"


def plain(v):
    """dbus values to JSON-able ones."""
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (int, dbus.UInt32, dbus.Int32)):
        return int(v)
    return str(v)


class Request(dbus.service.Object):
    @dbus.service.signal(REQ, signature="ua{sv}")
    def Response(self, response, results):
        pass

    @dbus.service.method(REQ, in_signature="", out_signature="")
    def Close(self):
        self.remove_from_connection()


class Session(dbus.service.Object):
    def __init__(self, conn, path, portal):
        super().__init__(conn, path)
        self.portal = portal

    @dbus.service.method(SESS, in_signature="", out_signature="")
    def Close(self):
        self.portal.record("Session.Close", {}, str(self.__dbus_object_path__))
        self.remove_from_connection()


class Portal(dbus.service.Object):
    def __init__(self, conn, args):
        super().__init__(conn, PATH)
        self.conn = conn
        self.args = args
        self.sessions = {}

    def record(self, method, options, path, **extra):
        with open(self.args.log, "a") as f:
            f.write(json.dumps(dict(method=method, options=plain(options), path=path, **extra)) + "\n")

    def request_path(self, sender, options):
        token = str(options.get("handle_token", "t"))
        return "%s/request/%s/%s" % (PATH, sender[1:].replace(".", "_"), token)

    def answer(self, sender, options, response, results, method, **extra):
        path = self.request_path(sender, options)
        req = Request(self.conn, path)
        self.record(method, options, path, **extra)
        # sent before the method's reply: only a client that subscribed
        # first sees it
        req.Response(dbus.UInt32(response), dbus.Dictionary(results, signature="sv"))
        req.remove_from_connection()
        return dbus.ObjectPath(path)

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.GetAll(iface)[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        if iface != SC:
            raise dbus.exceptions.DBusException("no such interface", name="org.freedesktop.DBus.Error.UnknownInterface")
        return {"version": dbus.UInt32(self.args.version),
                "AvailableSourceTypes": dbus.UInt32(1),
                "AvailableCursorModes": dbus.UInt32(self.args.cursor_modes)}

    @dbus.service.method(SC, in_signature="a{sv}", out_signature="o", sender_keyword="sender")
    def CreateSession(self, options, sender=None):
        spath = "%s/session/%s/%s" % (PATH, sender[1:].replace(".", "_"),
                                      options.get("session_handle_token", "s"))
        self.sessions[spath] = Session(self.conn, spath, self)
        return self.answer(sender, options, 0, {"session_handle": dbus.String(spath)}, "CreateSession")

    @dbus.service.method(SC, in_signature="oa{sv}", out_signature="o", sender_keyword="sender")
    def SelectSources(self, session, options, sender=None):
        return self.answer(sender, options, 0, {}, "SelectSources", session=str(session))

    @dbus.service.method(SC, in_signature="osa{sv}", out_signature="o", sender_keyword="sender")
    def Start(self, session, parent, options, sender=None):
        mode = self.args.start
        if mode != "ok":
            return self.answer(sender, options, 1 if mode == "cancel" else 2, {}, "Start", mode=mode)
        w, h = (int(x) for x in self.args.size.split("x"))
        streams = dbus.Array([dbus.Struct((dbus.UInt32(n), dbus.Dictionary({
            "position": dbus.Struct((dbus.Int32(i * w), dbus.Int32(0)), signature="ii"),
            "size": dbus.Struct((dbus.Int32(w), dbus.Int32(h)), signature="ii"),
            "source_type": dbus.UInt32(1)}, signature="sv")), signature="ua{sv}")
            for i, n in enumerate(self.args.node)], signature="(ua{sv})")
        token = "tok-" + uuid.uuid4().hex
        return self.answer(sender, options, 0, {"streams": streams, "restore_token": dbus.String(token)},
                           "Start", token=token)

    @dbus.service.method(SC, in_signature="oa{sv}", out_signature="h")
    def OpenPipeWireRemote(self, session, options):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.args.pw_socket)
        fd = dbus.types.UnixFd(s.fileno())  # dbus duplicates it
        s.close()
        self.record("OpenPipeWireRemote", options, str(session))
        return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--pw-socket", required=True)
    ap.add_argument("--node", type=int, action="append", required=True)
    ap.add_argument("--start", choices=("ok", "cancel", "deny"), default="ok")
    ap.add_argument("--version", type=int, default=4)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--cursor-modes", type=int, default=3)
    args = ap.parse_args()
    DBusGMainLoop(set_as_default=True)
    conn = dbus.SessionBus()
    Portal(conn, args)
    name = dbus.service.BusName(BUS, conn, do_not_queue=True)
    print("ready", name.get_name(), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    sys.exit(main())
