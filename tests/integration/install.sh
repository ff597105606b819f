#!/usr/bin/env bash
# make install / uninstall with PREFIX and DESTDIR into a staging directory.
. "$(dirname "$0")/../lib.sh"
stage="$T/stage"
t_run "make install DESTDIR=... PREFIX=/usr" make -s -C "$TOP" B="$B" install DESTDIR="$stage" PREFIX=/usr UDEVRULESDIR=/usr/lib/udev/rules.d
for f in usr/bin/keyquorum usr/libexec/keyquorum/keyquorum-full usr/share/man/man1/keyquorum.1 usr/lib/udev/rules.d/70-keyquorum.rules; do
	[ -f "$stage/$f" ] && t_ok "installed $f" || t_fail "installed $f" "$(cd "$stage" && find . -type f)"
done
for f in "$TOP"/docs/*.5; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	[ -f "$stage/usr/share/man/man5/$n" ] && t_ok "installed man5/$n" || t_fail "installed man5/$n"
done
[ "$(stat -c %a "$stage/usr/bin/keyquorum")" = 755 ] && t_ok "binary is mode 0755" || t_fail "binary is mode 0755"
[ "$(stat -c %a "$stage/usr/libexec/keyquorum/keyquorum-full")" = 755 ] && t_ok "keyquorum-full is mode 0755" || t_fail "keyquorum-full is mode 0755"
t_expect 0 "the installed binary runs" "$stage/usr/bin/keyquorum" --version
# The front execs libexec/keyquorum/keyquorum-full for a ceremony verb.
t_expect 0 "the installed front runs a verb of the full binary" "$stage/usr/bin/keyquorum" custody --help
if command -v man >/dev/null; then
	t_expect 0 "the installed man page renders" sh -c "man -l '$stage/usr/share/man/man1/keyquorum.1' >/dev/null"
fi
t_run "make uninstall" make -s -C "$TOP" B="$B" uninstall DESTDIR="$stage" PREFIX=/usr UDEVRULESDIR=/usr/lib/udev/rules.d
left=$(find "$stage" -type f | wc -l)
[ "$left" = 0 ] && t_ok "uninstall removes every installed file" || t_fail "uninstall removes every installed file" "$(find "$stage" -type f)"
t_done
