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
#   button WINDOW NAME              the button NAME in window WINDOW
#   label WINDOW TEXT               the label TEXT in window WINDOW
#   window WINDOW                   the window (frame, dialog or file chooser) itself
#   add-vpn                         the "+" (Add connection) button of the VPN section
#   vpn-rows [ROW]                  prints the VPN section's rows, one a line; with
#                                   ROW, waits until it is there
#   row WINDOW TEXT                 the list row whose label is TEXT (e.g. "Import
#                                   from file…" in "Add VPN")
#   entry WINDOW LABEL [STATE...]   the text field labelled LABEL
#   combo WINDOW LABEL              the drop-down labelled LABEL
#   option WINDOW TEXT              the keys (xdotool key names) that choose the item
#                                   TEXT in the open drop-down, e.g. "Down Return"
#   check WINDOW TEXT [checked|unchecked]  a check box
#   value WINDOW LABEL [VALUE]      prints the field's text, the drop-down's selected
#                                   item or a check box's state; with VALUE, waits for it
#   file-entry WINDOW [TEXT]        the file chooser's location entry ("/" opens it)
#   button WINDOW NAME [STATE...]   also waits for states: sensitive, !sensitive
#   windows | focused               the top-level windows; what has the focus
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
# AT-SPI's role of a GtkButton: 'push button' in GTK 4.8, 'button' in 4.18.
BUTTON_ROLES = ('push button', 'button')


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


def toplevels():
    return list(children(app()))


def window(title):
    # GTK 4.8 gives the file chooser dialog the role "filler", not "dialog".
    for w in toplevels():
        if w.get_name() == title:
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


def text_of(o):
    """The text of an editable/text object, or None."""
    try:
        t = o.get_text_iface()
    except Exception:  # noqa: BLE001
        t = None
    if t is None or o.get_role_name() not in ('text', 'entry', 'password text', 'editbar'):
        return None
    try:
        return Atspi.Text.get_text(o, 0, Atspi.Text.get_character_count(o))
    except Exception:  # noqa: BLE001
        return None


def labels_of(o):
    """Names of the objects `o` is labelled by (AT-SPI relation LABELLED_BY)."""
    out = []
    try:
        for rel in o.get_relation_set():
            if rel.get_relation_type() == Atspi.RelationType.LABELLED_BY:
                for i in range(rel.get_n_targets()):
                    out.append(rel.get_target(i).get_name())
    except Exception:  # noqa: BLE001
        pass
    return out


def vpn_row(name):
    win = window('Settings')
    for lst in descendants(win):
        if lst.get_role_name() == 'list' and lst.get_name() == 'VPN':
            for item in children(lst):
                if item.get_role_name() == 'list item' and item.get_name() == name:
                    return win, item
    raise NotFound('no row %r in the VPN list' % name)


def label_text(o):
    """The name of `o` or, when GTK gave it none, of its first named label."""
    if o.get_name():
        return o.get_name()
    for c in descendants(o):
        if c.get_role_name() == 'label' and c.get_name():
            return c.get_name()
    return ''


def has_label(o, text):
    return o.get_name() == text or any(
        c.get_role_name() == 'label' and c.get_name() == text for c in descendants(o))


def showing(o):
    x, y, w, h = extents(o)
    return w > 0 and h > 0


def labelled(win, label, roles):
    """The widget of one of `roles` that the label `label` labels."""
    for o in descendants(win):
        if o.get_role_name() in roles and (label in labels_of(o) or o.get_name() == label):
            if showing(o):
                return o
    raise NotFound('no %s labelled %r' % ('/'.join(roles), label))


def value(o):
    role = o.get_role_name()
    if role in ('text', 'entry', 'password text'):
        return text_of(o)
    if role in SWITCH_ROLES or role == 'radio button':
        return 'checked' if 'checked' in states(o) else 'unchecked'
    if role == 'combo box':
        # GtkDropDown: the selected item's label is the one that has a size.
        for c in descendants(o):
            if c.get_role_name() == 'label' and showing(c) and c.get_name() != '(None)':
                return c.get_name()
        return ''
    return o.get_name()


def want_state(o, wanted, what):
    """Raises NotFound unless `o` has every state in `wanted` (a '!' prefix: lacks it)."""
    have = states(o)
    for st in wanted:
        if st.startswith('!') and st[1:] in have:
            raise NotFound('%s is %s' % (what, st[1:]))
        if not st.startswith('!') and st not in have:
            raise NotFound('%s is not %s' % (what, st))


def point(win, title, o, extra=''):
    x, y = on_screen(win, title, o)
    return ('%d %d %s' % (x, y, extra)).rstrip()


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
            if o.get_role_name() in BUTTON_ROLES:
                return '%d %d' % on_screen(win, 'Settings', o)
        raise NotFound('no button in row %r' % args[1])
    if cmd == 'add-vpn':
        # The "+" of the VPN section: the push button next to the heading
        # label "VPN" (its accessible name is "Add connection").
        win = window('Settings')
        for lbl in descendants(win):
            if lbl.get_role_name() == 'label' and lbl.get_name() == 'VPN' and showing(lbl):
                up = lbl.get_parent()
                for _ in range(3):
                    for o in descendants(up):
                        if o.get_role_name() in BUTTON_ROLES and showing(o):
                            return point(win, 'Settings', o)
                    up = up.get_parent()
        raise NotFound('no "+" button next to the VPN heading')
    if cmd == 'vpn-rows':
        # The names of the VPN section's rows, one a line ("" when it is empty
        # and shows "Not set up").
        win = window('Settings')
        for lst in descendants(win):
            if lst.get_role_name() == 'list' and lst.get_name() == 'VPN':
                names = [i.get_name() for i in children(lst)
                         if i.get_role_name() == 'list item']
                if len(args) > 1 and args[1] not in names:
                    raise NotFound('no row %r in the VPN list (%s)' % (args[1], names))
                return '\n'.join(names)
        raise NotFound('no VPN list')
    if cmd == 'windows':
        return '\n'.join('%s %r' % (w.get_role_name(), w.get_name()) for w in toplevels())
    if cmd == 'focused':
        for w in toplevels():
            for o in descendants(w):
                if 'focused' in states(o):
                    return '%s %r in %r' % (o.get_role_name(), o.get_name(), w.get_name())
        raise NotFound('nothing has the focus')
    title = args[1]
    win = window(title)
    if cmd == 'window':
        x, y, w, h = x_window(title)
        return '%d %d %d %d' % (x, y, w, h)
    if cmd in ('entry', 'combo', 'value'):
        # A field labelled args[2] (AT-SPI relation labelled-by, which GTK 4
        # sets from gtk_label_set_mnemonic_widget, or the field's own name).
        roles = {'entry': ('text', 'entry', 'password text'), 'combo': ('combo box',),
                 'value': ('text', 'entry', 'password text', 'combo box', 'check box')}[cmd]
        o = labelled(win, args[2], roles)
        if cmd == 'value':
            v = value(o)
            if len(args) > 3 and v != args[3]:
                raise NotFound('%r is %r, not %r' % (args[2], v, args[3]))
            return v
        want_state(o, args[3:], repr(args[2]))
        return point(win, title, o)
    if cmd == 'file-entry':
        # The file chooser's location entry (it appears on "/" or ctrl+L).
        for o in descendants(win):
            # GTK 4.8 names it; GTK 4.18 (Debian 13) leaves it unnamed.
            if o.get_role_name() == 'text' and showing(o) and (
                    o.get_name() == 'GtkFileChooserEntry' or
                    (o.get_name() == '' and 'editable' in states(o))):
                t = text_of(o)
                if len(args) > 2 and t != args[2]:
                    raise NotFound('the location is %r' % t)
                return point(win, title, o)
        raise NotFound('no location entry in %r' % title)
    if cmd == 'option':
        # An item of an open drop-down list (GtkDropDown's popover). The
        # popover is an X window of its own whose AT-SPI extents do not map to
        # the screen like the dialog's, so this prints the keys that select
        # the item from the focused one: "Down Down Return", "Up Return", ...
        for o in descendants(win):
            if o.get_role_name() != 'filler' or o.get_name() != 'GtkPopover' or not showing(o):
                continue
            for lst in descendants(o):
                if lst.get_role_name() != 'list':
                    continue
                items = [i for i in children(lst) if i.get_role_name() == 'list item']
                names = [label_text(i) for i in items]
                if args[2] not in names:
                    raise NotFound('no option %r in %s' % (args[2], names))
                now = [n for n, i in enumerate(items) if 'focused' in states(i)]
                if not now:
                    now = [n for n, i in enumerate(items) if 'selected' in states(i)]
                if not now:
                    raise NotFound('no option has the focus yet')
                moves = names.index(args[2]) - now[0]
                keys = ['Down'] * moves if moves > 0 else ['Up'] * -moves
                return ' '.join(keys + ['Return'])
        raise NotFound('no open drop-down in %r' % title)
    for o in descendants(win):
        role = o.get_role_name()
        if cmd == 'tab' and role == 'page tab':
            # GTK 4 names every tab "Tab"; its label child has the text.
            if has_label(o, args[2]):
                return point(win, title, o)
        # GTK 4.8 names a button with a mnemonic label "_Cancel Cancel";
        # its label child is named "Cancel". Extra args: states to wait for
        # (sensitive, !sensitive).
        if cmd == 'button' and role in BUTTON_ROLES and has_label(o, args[2]) and showing(o):
            want_state(o, args[3:], 'button %r' % args[2])
            return point(win, title, o)
        if cmd == 'row' and role == 'list item' and showing(o) and has_label(o, args[2]):
            return point(win, title, o)
        if cmd == 'check' and role == 'check box' and has_label(o, args[2]) and showing(o):
            state = 'checked' if 'checked' in states(o) else 'unchecked'
            if len(args) > 3 and args[3] != state:
                raise NotFound('%r is %s' % (args[2], state))
            return point(win, title, o, state)
        if cmd == 'label' and role == 'label' and o.get_name() == args[2]:
            return point(win, title, o)
    if cmd not in ('tab', 'button', 'row', 'check', 'label'):
        raise SystemExit('unknown command %r' % cmd)
    raise NotFound('no %s %r in window %r' % (cmd, args[2], title))


def dump(o, depth=0):
    try:
        ext = extents(o) if o.get_component_iface() else ''
    except Exception:  # noqa: BLE001
        ext = ''
    extra = ''
    t = text_of(o)
    if t is not None:
        extra += ' text=%r' % t
    for r in labels_of(o):
        extra += ' labelled-by=%r' % r
    print('%s[%s] %r %s %s%s' % (' ' * depth, o.get_role_name(), o.get_name(), ext,
                                 ','.join(states(o)), extra))
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
