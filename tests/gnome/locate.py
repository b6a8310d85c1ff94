#!/usr/bin/python3
# Finds widgets of GNOME Settings (gnome-control-center 43, GTK 4) through
# AT-SPI and prints where to click them on the X screen.
#
# Run it with /usr/bin/python3 (python3-gi, gir1.2-atspi-2.0), with the same
# DBUS_SESSION_BUS_ADDRESS and DISPLAY as gnome-control-center.
#
# GTK 4 reports component extents relative to its root widget only: asking
# for SCREEN coordinates makes it warn "Screen coordinates not supported,
# reported positions will be wrong" and answer window coordinates anyway.
# So the extents are taken as WINDOW coordinates and mapped to the screen
# with the X window's geometry (xdotool): the X window is larger than the
# root widget by GTK's client-side-decoration margin, the same on every side
# (5 px each side for a normal window under Xvfb with no window manager, 0
# when maximized), so
#   screen = window origin + (X width - frame width) / 2 + extents.
#
# Usage: locate.py [--timeout S] COMMAND ARGS...
#   switch ROW [checked|unchecked]  the on/off switch of the VPN row named ROW;
#                                   with a state, waits until it has it
#   gear ROW                        the row's options (gear) button
#   tab WINDOW LABEL                the page tab labelled LABEL in window WINDOW
#   button WINDOW NAME              the push button NAME in window WINDOW
#   label WINDOW TEXT               the label TEXT in window WINDOW
#   window WINDOW                   the window (frame or dialog) itself
#   dump                            the whole tree, for debugging
# Prints "X Y [STATE]" (the middle of the widget on the screen) and exits 0;
# exits 1 with a reason on stderr when nothing was found within the timeout.
import subprocess
import sys
import time
import warnings

warnings.simplefilter('ignore')
import gi  # noqa: E402

gi.require_version('Atspi', '2.0')
from gi.repository import Atspi  # noqa: E402

APP = 'gnome-control-center'
SWITCH_ROLES = ('check box', 'toggle button', 'switch')


class NotFound(Exception):
    pass


def children(o):
    for i in range(o.get_child_count()):
        c = o.get_child_at_index(i)
        if c is not None:
            yield c


def descendants(o):
    for c in children(o):
        yield c
        yield from descendants(c)


def app():
    desktop = Atspi.get_desktop(0)
    for a in children(desktop):
        if a.get_name() == APP:
            return a
    raise NotFound('%s is not on the accessibility bus' % APP)


def window(title):
    for w in children(app()):
        if w.get_role_name() in ('frame', 'dialog', 'window') and w.get_name() == title:
            return w
    raise NotFound('no window %r' % title)


def states(o):
    return [s.value_nick for s in o.get_state_set().get_states()]


def extents(o):
    e = o.get_extents(Atspi.CoordType.WINDOW)
    return e.x, e.y, e.width, e.height


def x_window(title):
    """The X window titled `title`: x, y, width, height."""
    ids = subprocess.run(['xdotool', 'search', '--onlyvisible', '--name', '^%s$' % title],
                         capture_output=True, text=True).stdout.split()
    if not ids:
        raise NotFound('no X window named %r' % title)
    geo = {}
    for line in subprocess.run(['xdotool', 'getwindowgeometry', '--shell', ids[-1]],
                               capture_output=True, text=True).stdout.splitlines():
        k, _, v = line.partition('=')
        geo[k] = int(v)
    return geo['X'], geo['Y'], geo['WIDTH'], geo['HEIGHT']


def on_screen(win, title, o):
    """The middle of `o` (in window `win` titled `title`) on the X screen."""
    x, y, w, h = extents(o)
    if w <= 0 or h <= 0:
        raise NotFound('%r has no size yet' % o.get_name())
    _, _, fw, fh = extents(win)
    wx, wy, ww, wh = x_window(title)
    return wx + (ww - fw) // 2 + x + w // 2, wy + (wh - fh) // 2 + y + h // 2


def vpn_row(name):
    win = window('Settings')
    for lst in descendants(win):
        if lst.get_role_name() == 'list' and lst.get_name() == 'VPN':
            for item in children(lst):
                if item.get_role_name() == 'list item' and item.get_name() == name:
                    return win, item
    raise NotFound('no row %r in the VPN list' % name)


def find(args):
    cmd = args[0]
    if cmd == 'switch':
        win, row = vpn_row(args[1])
        for o in descendants(row):
            if o.get_role_name() in SWITCH_ROLES:
                state = 'checked' if 'checked' in states(o) else 'unchecked'
                if len(args) > 2 and args[2] != state:
                    raise NotFound('the switch of %r is %s' % (args[1], state))
                x, y = on_screen(win, 'Settings', o)
                return '%d %d %s' % (x, y, state)
        raise NotFound('no switch in row %r' % args[1])
    if cmd == 'gear':
        win, row = vpn_row(args[1])
        for o in descendants(row):
            if o.get_role_name() == 'push button':
                return '%d %d' % on_screen(win, 'Settings', o)
        raise NotFound('no button in row %r' % args[1])
    if cmd in ('tab', 'button', 'label', 'window'):
        title = args[1]
        win = window(title)
        if cmd == 'window':
            x, y, w, h = x_window(title)
            return '%d %d %d %d' % (x, y, w, h)
        for o in descendants(win):
            role = o.get_role_name()
            if cmd == 'tab' and role == 'page tab':
                # GTK 4 names every tab "Tab"; its label child has the text.
                if any(c.get_name() == args[2] for c in descendants(o)) or o.get_name() == args[2]:
                    return '%d %d' % on_screen(win, title, o)
            # GTK 4.8 names a button with a mnemonic label "_Cancel Cancel";
            # its label child is named "Cancel".
            if cmd == 'button' and role == 'push button' and (
                    o.get_name() == args[2]
                    or any(c.get_name() == args[2] for c in descendants(o))):
                return '%d %d' % on_screen(win, title, o)
            if cmd == 'label' and role == 'label' and o.get_name() == args[2]:
                return '%d %d' % on_screen(win, title, o)
        raise NotFound('no %s %r in window %r' % (cmd, args[2], title))
    raise SystemExit('unknown command %r' % cmd)


def dump(o, depth=0):
    try:
        ext = extents(o) if o.get_component_iface() else ''
    except Exception:  # noqa: BLE001
        ext = ''
    print('%s[%s] %r %s %s' % (' ' * depth, o.get_role_name(), o.get_name(), ext,
                               ','.join(states(o))))
    for c in children(o):
        dump(c, depth + 1)


def main():
    args = sys.argv[1:]
    timeout = 0.0
    if args[:1] == ['--timeout']:
        timeout = float(args[1])
        args = args[2:]
    if args == ['dump']:
        dump(app())
        return 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            print(find(args))
            return 0
        except (NotFound, gi.repository.GLib.Error) as e:
            why = str(e)
        if time.monotonic() >= deadline:
            print('locate.py %s: %s' % (' '.join(args), why), file=sys.stderr)
            return 1
        time.sleep(0.2)


if __name__ == '__main__':
    sys.exit(main())
