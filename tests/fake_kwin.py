#!/usr/bin/python3
"""fake_kwin.py CONTROL LOG - a stand-in for KWin's scripting on the session
bus (DBUS_SESSION_BUS_ADDRESS): owns org.kde.KWin, answers
org.kde.kwin.Scripting.loadScript(path, plugin) with a script id (or -1
when FAKE_KWIN_REFUSE=1), unloadScript(plugin) and isScriptLoaded(plugin);
the script's run() (at /Scripting/Script<id>, like Plasma 6) reads the
script file and calls the helper back the way the script would: Focus on
the name in its `var dest = "..."` line, with the active window below.
Each line written to the CONTROL fifo, "CLASS NAME PID CAPTION", makes that
window active and is reported to every running script. Everything done is
logged to LOG, one line each."""
import os
import re
import sys
import threading

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

ctl, logf = sys.argv[1], sys.argv[2]
refuse = os.environ.get("FAKE_KWIN_REFUSE") == "1"
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
active = ["org.example.PeerOne", "peerone", "77", "PEER-CAPTION"]
running = {}  # plugin -> dest
scripts = {}  # id -> (path, plugin)
objs = []


def log(s):
    with open(logf, "a") as f:
        f.write(s + "\n")


def report(dest):
    bus.call_async(dest, "/org/actlog/KWinFocus", "org.actlog.KWinFocus1", "Focus", "ssss",
                   active, lambda *a: log("reported to %s" % dest),
                   lambda e: log("report to %s failed: %s" % (dest, e.get_dbus_name())))


class Script(dbus.service.Object):
    def __init__(self, sid):
        super().__init__(bus, "/Scripting/Script%d" % sid)
        self.sid = sid

    @dbus.service.method("org.kde.kwin.Script", in_signature="", out_signature="")
    def run(self):
        path, plugin = scripts[self.sid]
        with open(path) as f:
            text = f.read()
        m = re.search(r'var dest = "([^"]*)", titles = (true|false)', text)
        log("run %s dest %s titles %s mode %o" % (plugin, m.group(1), m.group(2),
                                                  os.stat(path).st_mode & 0o7777))
        running[plugin] = m.group(1)
        report(m.group(1))


class Scripting(dbus.service.Object):
    @dbus.service.method("org.kde.kwin.Scripting", in_signature="ss", out_signature="i")
    def loadScript(self, path, plugin):
        log("loadScript %s %s" % (path, plugin))
        if refuse or plugin in running:
            return -1
        sid = len(scripts)
        scripts[sid] = (path, plugin)
        objs.append(Script(sid))
        return sid

    @dbus.service.method("org.kde.kwin.Scripting", in_signature="s", out_signature="b")
    def unloadScript(self, plugin):
        log("unloadScript %s" % plugin)
        return running.pop(plugin, None) is not None

    @dbus.service.method("org.kde.kwin.Scripting", in_signature="s", out_signature="b")
    def isScriptLoaded(self, plugin):
        return plugin in running


def control():
    while True:
        with open(ctl) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4:
                    active[:] = parts
                    for dest in list(running.values()):
                        GLib.idle_add(report, dest)


objs.append(Scripting(bus, "/Scripting"))
name = dbus.service.BusName("org.kde.KWin", bus)
log("up as %s" % bus.get_unique_name())
threading.Thread(target=control, daemon=True).start()
GLib.MainLoop().run()
