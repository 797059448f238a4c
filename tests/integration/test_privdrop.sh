# test_privdrop.sh -- started as root, dnsward binds its sockets, creates
# the control socket and the decision log, then becomes server.user for
# good: no capabilities, no way back; it still serves, reloads, reopens
# its log (SIGUSR1) and answers dnsward-ctl.  A user named in the file
# that does not exist is an error with its place; the default user missing
# is a warning (the daemon stays root and says so).
#
# Run as root: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_privdrop.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig

CTL=${CTL:-$SRCDIR/src/dnsward-ctl}
if [ "$(id -u)" != 0 ]; then
	skip "privilege drop (needs root)"
	summary
	exit 0
fi
id nobody >/dev/null 2>&1 || bail "user nobody exists" "missing"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

# The unprivileged daemon must reach its configuration and feed.
chmod 755 "$WORK"
FEED=$WORK/block.txt
printf 'mail.test\n' >"$FEED"
chmod 644 "$FEED"
DW_EXTRA=$(block_feed_conf "$FEED")

start_nsd
DW_USER=nobody start_dnsward drop 2 "127.0.0.1:$NSD_PORT"
chmod 644 "$DW_CONF"
SOCK=$DW_DIR/control.sock

# /proc/PID/status of the main thread and of every thread.
st=$(cat "/proc/$DW_PID/status")
check_match "Uid: real, effective, saved, fs all nobody" \
    "Uid:[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID" \
    "$st"
check_match "Gid: all nobody's group" \
    "Gid:[[:space:]]+$NOBODY_GID[[:space:]]+$NOBODY_GID[[:space:]]+$NOBODY_GID[[:space:]]+$NOBODY_GID" \
    "$st"
check_match "no supplementary groups but its own" \
    "Groups:[[:space:]]+$NOBODY_GID[[:space:]]*$" "$(echo "$st" | grep '^Groups:')"
check_match "no effective capabilities" 'CapEff:[[:space:]]+0+$' \
    "$(echo "$st" | grep '^CapEff:')"
check_match "no permitted capabilities" 'CapPrm:[[:space:]]+0+$' \
    "$(echo "$st" | grep '^CapPrm:')"
bad=0
for t in /proc/"$DW_PID"/task/*; do
	grep -q -E "^Uid:[[:space:]]+$NOBODY_UID[[:space:]]" "$t/status" ||
	    bad=$((bad + 1))
done
check_eq "every thread runs as nobody" 0 "$bad"
check_match "logged: running as user nobody" \
    "running as user nobody \\(uid $NOBODY_UID, gid $NOBODY_GID\\)" \
    "$(cat "$DW_DIR/stderr")"

# Sockets bound before the drop: port as configured, still served.
check_eq "answers after the drop: host.test" NOERROR \
    "$(dw_dig host.test A | dig_status)"
check_eq "answers after the drop: mail.test blocked" NXDOMAIN \
    "$(dw_dig +tcp mail.test A | dig_status)"

# The control socket: the user's, mode 0660.
check_eq "control socket mode 0660, owner nobody" \
    "660 $NOBODY_UID $NOBODY_GID socket" \
    "$(stat -c '%a %u %g %F' "$SOCK")"
out=$("$CTL" -s "$SOCK" status 2>&1)
check_match "dnsward-ctl status (root) answered" 'generation 1' "$out"

# The decision log file was handed over: SIGUSR1 reopens a new one.
check_eq "decision log owned by nobody" "$NOBODY_UID" \
    "$(stat -c '%u' "$DW_LOG")"
chown nobody "$DW_DIR"
mv "$DW_LOG" "$DW_LOG.1"
kill -USR1 "$DW_PID"
sleep 0.3
dw_dig host.test AAAA >/dev/null
n=0
while [ "$n" -lt 50 ] && [ ! -s "$DW_LOG" ]; do
	sleep 0.1
	n=$((n + 1))
done
check_eq "SIGUSR1 after rotation: the new log written by nobody" \
    "$NOBODY_UID 1" "$(stat -c '%u' "$DW_LOG" 2>/dev/null) $(wc -l <"$DW_LOG" 2>/dev/null)"

# Reload as nobody: the configuration and feeds are readable.
printf 'mail.test\nhost.test\n' >"$FEED"
out=$("$CTL" -s "$SOCK" reload 2>&1)
check_eq "reload as nobody: exit 0" 0 "$?"
check_eq "reload as nobody: host.test now blocked" NXDOMAIN \
    "$(dw_dig host.test A | dig_status)"
# A feed the user cannot read: the reload fails with the reason.
chmod 600 "$FEED"
out=$("$CTL" -s "$SOCK" reload 2>&1)
check_eq "reload, feed unreadable by nobody: exit 1" 1 "$?"
check_match "reload, feed unreadable by nobody: says Permission denied" \
    "feed 'bad': .*block.txt: Permission denied" "$out"
chmod 644 "$FEED"
sed -i 's/^  user: nobody$/  user: root/' "$DW_CONF"
out=$("$CTL" -s "$SOCK" reload 2>&1)
check_match "reload: server.user is restart-only, reported and kept" \
    'server.user changed; it takes a restart to apply, the running value stays' \
    "$out"
check_match "reload: still nobody" \
    "Uid:[[:space:]]+$NOBODY_UID[[:space:]]" "$(cat "/proc/$DW_PID/status")"
stop_dnsward TERM
# Rotation split the log; the harness counts lines in one file.
cat "$DW_LOG.1" "$DW_LOG" >"$WORK/all.jsonl" 2>/dev/null
DW_LOG=$WORK/all.jsonl
check_log

# --- a user that does not exist ---------------------------------------------

cat >"$WORK/nouser.yaml" <<EOF
server:
  listen: ["127.0.0.1:1"]
  user: no-such-user-dw
EOF
out=$("$DNSWARD" -t -c "$WORK/nouser.yaml" 2>&1)
check_eq "-t: named user missing: exit 1" 1 "$?"
check_match "-t: named user missing: FILE:LINE:COL" \
    "nouser.yaml:3:9: server.user: no user 'no-such-user-dw'" "$out"
out=$(timeout 10 "$DNSWARD" -c "$WORK/nouser.yaml" 2>&1)
check_eq "start: named user missing: exit 1" 1 "$?"
check_match "start: named user missing: FILE:LINE:COL" \
    "nouser.yaml:3:9: server.user: no user 'no-such-user-dw'" "$out"

# --- the default user (dnsward) ---------------------------------------------

if ! id dnsward >/dev/null 2>&1; then
	DW_USER= start_dnsward default 1 "127.0.0.1:$NSD_PORT"
	check_match "default user missing: warned, stays root" \
	    "server.user: no user 'dnsward' on this system: running as root" \
	    "$(cat "$DW_DIR/stderr")"
	check_match "default user missing: still root" \
	    'Uid:[[:space:]]+0[[:space:]]' "$(cat "/proc/$DW_PID/status")"
	check_eq "default user missing: serves" NOERROR \
	    "$(dw_dig ns.test A | dig_status)"
	stop_dnsward TERM
	check_log
else
	skip "default user missing (a dnsward user exists here)"
fi

summary
