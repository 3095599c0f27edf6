// SPDX-License-Identifier: BSD-2-Clause
/* Test only: unsafe mode on, so that org.gnome.Shell.Eval answers. */
'use strict';

class ActlogTest {
    enable() {
        global.context.unsafe_mode = true;
    }

    disable() {
        global.context.unsafe_mode = false;
    }
}

/** The Shell's entry point. */
function init() {
    return new ActlogTest();
}
