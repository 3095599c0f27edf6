// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-focus@actlog.dev - exports the focused window on the session bus
 * for actlog-session's "gnome" focus route (user/session/focus_gnome.c).
 *
 * Name org.actlog.Focus, object /org/actlog/Focus, interface
 * org.actlog.Focus1:
 *   GetFocus(b with_title) -> a{sv}  the focused window now
 *   SetTitles(b on)                  titles in FocusChanged while on, for
 *                                    this caller, until it leaves the bus
 *   signal FocusChanged(a{sv})       on every change of the focused window
 *                                    (and of its title while titles are on)
 * The a{sv}: wm_class (s), wm_class_instance (s), pid (u, 0 unknown),
 * app_id (s, Shell.WindowTracker's .desktop id, "" none), title (s, only
 * when asked); empty when no window has the focus.
 *
 * Legacy (GNOME Shell 42-44) extension: init() returns the object whose
 * enable()/disable() the Shell calls; disable() undoes everything.
 */
'use strict';

const {Gio, GLib, Shell} = imports.gi;

const BUS_NAME = 'org.actlog.Focus';
const OBJECT_PATH = '/org/actlog/Focus';
const TITLE_CALLERS_MAX = 16;
const IFACE_XML = `<node>
  <interface name="org.actlog.Focus1">
    <method name="GetFocus">
      <arg name="with_title" type="b" direction="in"/>
      <arg name="focus" type="a{sv}" direction="out"/>
    </method>
    <method name="SetTitles">
      <arg name="on" type="b" direction="in"/>
    </method>
    <signal name="FocusChanged">
      <arg name="focus" type="a{sv}"/>
    </signal>
    <property name="Version" type="u" access="read"/>
  </interface>
</node>`;

class ActlogFocus {
    constructor() {
        this._dbus = null;
    }

    enable() {
        this._window = null;
        this._windowIds = [];
        this._titleCallers = new Map(); // unique name -> name watch id
        this._dbus = Gio.DBusExportedObject.wrapJSObject(IFACE_XML, this);
        this._dbus.export(Gio.DBus.session, OBJECT_PATH);
        this._focusId = global.display.connect('notify::focus-window', () => this._onFocus());
        this._track(global.display.focus_window);
        this._ownerId = Gio.bus_own_name_on_connection(Gio.DBus.session, BUS_NAME,
            Gio.BusNameOwnerFlags.NONE, null, null);
    }

    disable() {
        Gio.bus_unown_name(this._ownerId);
        global.display.disconnect(this._focusId);
        this._track(null);
        for (const id of this._titleCallers.values())
            Gio.bus_unwatch_name(id);
        this._titleCallers.clear();
        this._dbus.unexport();
        this._dbus = null;
    }

    get Version() {
        return 1;
    }

    GetFocus(withTitle) {
        return this._info(this._window, withTitle);
    }

    SetTitlesAsync([on], invocation) {
        const sender = invocation.get_sender();
        if (on && !this._titleCallers.has(sender)) {
            if (this._titleCallers.size >= TITLE_CALLERS_MAX) {
                invocation.return_dbus_error('org.freedesktop.DBus.Error.LimitsExceeded',
                    'too many callers want titles');
                return;
            }
            const id = Gio.bus_watch_name_on_connection(Gio.DBus.session, sender,
                Gio.BusNameWatcherFlags.NONE, null, () => this._titlesOff(sender));
            this._titleCallers.set(sender, id);
        } else if (!on) {
            this._titlesOff(sender);
        }
        invocation.return_value(null);
    }

    _titlesOff(sender) {
        const id = this._titleCallers.get(sender);
        if (id === undefined)
            return;
        Gio.bus_unwatch_name(id);
        this._titleCallers.delete(sender);
    }

    _info(w, withTitle) {
        const out = {};
        if (!w)
            return out;
        out.wm_class = new GLib.Variant('s', w.get_wm_class() || '');
        out.wm_class_instance = new GLib.Variant('s', w.get_wm_class_instance() || '');
        out.pid = new GLib.Variant('u', Math.max(w.get_pid(), 0));
        const app = Shell.WindowTracker.get_default().get_window_app(w);
        const id = app ? app.get_id() || '' : '';
        // windows without a .desktop file get made-up ids ("window:N")
        out.app_id = new GLib.Variant('s', id.endsWith('.desktop') ? id : '');
        if (withTitle)
            out.title = new GLib.Variant('s', w.get_title() || '');
        return out;
    }

    _emit() {
        if (!this._dbus)
            return;
        const info = this._info(this._window, this._titleCallers.size > 0);
        this._dbus.emit_signal('FocusChanged', new GLib.Variant('(a{sv})', [info]));
    }

    _track(w) {
        for (const id of this._windowIds)
            this._window.disconnect(id);
        this._windowIds = [];
        this._window = w;
        if (!w)
            return;
        this._windowIds.push(w.connect('notify::wm-class', () => this._emit()));
        this._windowIds.push(w.connect('notify::title', () => {
            if (this._titleCallers.size > 0)
                this._emit();
        }));
        this._windowIds.push(w.connect('unmanaged', () => this._track(null)));
    }

    _onFocus() {
        this._track(global.display.focus_window);
        this._emit();
    }
}

/** The Shell's entry point: the extension object. */
function init() {
    return new ActlogFocus();
}
