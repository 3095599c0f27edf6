#!/bin/sh
# scripts/gnome-extension-esm.sh SRC OUT - the GNOME Shell 45+ build of the
# actlog focus extension: GNOME 45 loads extensions as ES modules (imports
# from gi://, a default-exported Extension subclass, no init()), so the
# legacy extension.js in SRC (GNOME 42-44) is rewritten into OUT, with a
# metadata.json that lists 45 and later. The class body is the same code.
set -eu
src=$1
out=$2
mkdir -p "$out"
{
	echo "// Generated from $src/extension.js by scripts/gnome-extension-esm.sh (GNOME Shell 45+)."
	sed -e "s|^const {Gio, GLib, Shell} = imports.gi;\$|import Gio from 'gi://Gio';\\
import GLib from 'gi://GLib';\\
import Shell from 'gi://Shell';\\
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';|" \
		-e "/^'use strict';\$/d" \
		-e 's|^class ActlogFocus {$|export default class ActlogFocus extends Extension {|' \
		-e 's|^    constructor() {$|    constructor(metadata) {\
        super(metadata);|' \
		-e '/^\/\*\* The Shell.s entry point: the extension object. \*\/$/,$d' \
		-e 's|^ \* Legacy (GNOME Shell 42-44) extension: init() returns the object whose$| * GNOME Shell 45+ extension (ES module): the default export is the Extension subclass whose|' \
		-e 's|^ \* enable()/disable() the Shell calls; disable() undoes everything.$| * enable()/disable() the Shell calls; disable() undoes everything.|' \
		"$src/extension.js"
} >"$out/extension.js.tmp"
grep -q '^import Gio' "$out/extension.js.tmp" && grep -q '^export default class' "$out/extension.js.tmp" ||
	{ echo "gnome-extension-esm.sh: $src/extension.js no longer has the expected shape" >&2; exit 1; }
mv "$out/extension.js.tmp" "$out/extension.js"
sed -e 's|"shell-version": \[[^]]*\]|"shell-version": ["45", "46", "47", "48"]|' "$src/metadata.json" >"$out/metadata.json"
grep -q '"45"' "$out/metadata.json"
