# test_systemd.sh -- the service unit and the logrotate file, checked with
# the tools that read them (no service manager needed): the unit's sandbox
# scores an exposure <= 1.5 in `systemd-analyze security`, it verifies
# cleanly when pointed at the build tree, it is Type=notify with
# ExecStartPre (config check) and ExecReload (dnsward-ctl); the logrotate
# file parses, rotates and runs its postrotate script as intended.
#
# Run: SRCDIR=. bash tests/integration/test_systemd.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

UNIT=$SRCDIR/systemd/dnsward.service
LOGROTATE=$SRCDIR/systemd/dnsward.logrotate
MAX_EXPOSURE=1.5

# unit_line KEY: the value of KEY= in the shipped unit (first one).
unit_line() {
	sed -n "s/^$1=//p" "$UNIT" | head -n 1
}

# --- what the unit says ------------------------------------------------------------

check_eq "Type=notify" notify "$(unit_line Type)"
check_eq "ExecStartPre= checks the configuration" \
    "/usr/sbin/dnsward -t -c /etc/dnsward/dnsward.yaml" \
    "$(unit_line ExecStartPre)"
check_eq "ExecStart= runs the daemon" \
    "/usr/sbin/dnsward -c /etc/dnsward/dnsward.yaml" "$(unit_line ExecStart)"
check_eq "ExecReload= reloads through dnsward-ctl" \
    "/usr/sbin/dnsward-ctl -t 110 -c /etc/dnsward/dnsward.yaml reload" \
    "$(unit_line ExecReload)"
check_eq "runs as user dnsward" dnsward "$(unit_line User)"
check_eq "the bounding set is CAP_NET_BIND_SERVICE only" \
    CAP_NET_BIND_SERVICE "$(unit_line CapabilityBoundingSet)"
check_eq "the ambient set is CAP_NET_BIND_SERVICE only" \
    CAP_NET_BIND_SERVICE "$(unit_line AmbientCapabilities)"
check_eq "the runtime directory (control socket) is reachable by group" \
    0750 "$(unit_line RuntimeDirectoryMode)"
# The sysusers file makes the user the unit names.
check_match "sysusers.d creates the user dnsward" '^u[[:space:]]+dnsward[[:space:]]' \
    "$(cat "$SRCDIR/systemd/dnsward.sysusers")"

# Every man page the unit points at is shipped.
for page in $(unit_line Documentation); do
	f=$(printf '%s\n' "$page" |
	    sed -n 's/^man:\([^(]*\)(\([0-9]\))$/man\/\1.\2/p')
	check_eq "Documentation= $page is shipped" yes \
	    "$([ -n "$f" ] && [ -f "$SRCDIR/$f" ] && echo yes || echo no)"
done

# What ExecStartPre runs accepts the shipped configuration.
out=$("$DNSWARD" -t -c "$SRCDIR/conf/dnsward.yaml" 2>&1)
check_eq "dnsward -t accepts conf/dnsward.yaml (ExecStartPre)" 0 "$?"
check_match "dnsward -t says the configuration is OK" "configuration OK" "$out"

# --- systemd-analyze -------------------------------------------------------------

if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze security and verify: systemd-analyze not" \
	    "installed (tools/install-deps --test installs package systemd)"
else
	out=$(systemd-analyze security --offline=true --no-pager "$UNIT" 2>&1)
	score=$(printf '%s\n' "$out" |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
	if [ -z "$score" ]; then
		fail "systemd-analyze security reports an exposure level" \
		    "a number" "'$(printf '%s' "$out" | tail -n 3 | tr '\n' '|')'"
	else
		# Tenths, to compare as integers.
		check_le "exposure level x10 (systemd-analyze security)" \
		    "$(awk -v s="$score" 'BEGIN { printf "%d", s * 10 + 0.5 }')" \
		    "$(awk -v s="$MAX_EXPOSURE" 'BEGIN { printf "%d", s * 10 + 0.5 }')"
		note "systemd-analyze security: exposure $score;" \
		    "settings still open:"
		printf '%s\n' "$out" | grep '✗' | awk '{print "#   " $2}'
	fi

	# verify: the unit pointed at the build tree and the shipped config.
	# The man pages are checked above (--man=no: man may be absent).
	mkdir -p "$WORK/unit"
	sed -e "s|/usr/sbin/|$SRCDIR/src/|g" \
	    -e "s|/etc/dnsward/dnsward.yaml|$SRCDIR/conf/dnsward.yaml|g" \
	    "$UNIT" >"$WORK/unit/dnsward.service"
	for f in dnsward dnsward-ctl; do
		[ -x "$SRCDIR/src/$f" ] || note "src/$f not built: verify will say so"
	done
	out=$(systemd-analyze verify --man=no "$WORK/unit/dnsward.service" 2>&1)
	st=$?
	check_eq "systemd-analyze verify exits 0" 0 "$st"
	check_eq "systemd-analyze verify reports nothing" "" "$out"

	# The shipped unit itself: only the binaries' absence may be reported.
	out=$(systemd-analyze verify --man=no "$UNIT" 2>&1 |
	    grep -v 'Command /usr/sbin/dnsward\(-ctl\)\{0,1\} is not executable')
	check_eq "systemd-analyze verify of the shipped unit: no other complaint" \
	    "" "$out"
fi

# --- logrotate ---------------------------------------------------------------------

# The file with its paths moved into $WORK, our own user and group for
# dnsward's (which need not exist here), and /run/systemd/system replaced
# by a directory we control; systemctl and pkill are stand-ins on PATH
# that record how they are called.
L=$WORK/log
mkdir -p "$L" "$WORK/bin"
lr_conf() {
	sed -e "s|/var/log/dnsward|$L|g" \
	    -e "s|/run/systemd/system|$WORK/systemd-system|g" \
	    -e "s|create 0640 dnsward dnsward|create 0640 $(id -un) $(id -gn)|" \
	    "$LOGROTATE" >"$WORK/logrotate.conf"
}
for c in systemctl pkill; do
	cat >"$WORK/bin/$c" <<EOF
#!/bin/sh
echo "$c \$*" >>"$WORK/calls"
exit 0
EOF
	chmod 755 "$WORK/bin/$c"
done

if ! command -v logrotate >/dev/null 2>&1; then
	skip "logrotate checks: logrotate not installed" \
	    "(tools/install-deps --test installs it)"
else
	lr_conf
	echo '{"query_name":"a.example."}' >"$L/decisions.jsonl"
	out=$(logrotate -d -s "$WORK/lr.state" "$WORK/logrotate.conf" 2>&1)
	check_eq "logrotate -d parses the file" 0 "$?"
	check_nomatch "logrotate -d reports no error" '^error' "$out"
	check_match "logrotate -d picks up *.jsonl" "decisions\.jsonl" "$out"

	# A real (forced) rotation, outside systemd: pkill -USR1 -x dnsward.
	: >"$WORK/calls"
	PATH=$WORK/bin:$PATH logrotate -f -s "$WORK/lr.state" \
	    "$WORK/logrotate.conf" >"$WORK/lr.out" 2>&1
	check_eq "logrotate -f rotates" 0 "$?"
	check_eq "the old file is decisions.jsonl.1, not yet compressed" \
	    '{"query_name":"a.example."}' "$(cat "$L/decisions.jsonl.1" 2>&1)"
	check_eq "a new empty decisions.jsonl, mode 640" "640 0" \
	    "$(stat -c '%a %s' "$L/decisions.jsonl" 2>&1)"
	check_eq "postrotate outside systemd: pkill -USR1 -x dnsward, once" \
	    "pkill -USR1 -x dnsward" "$(cat "$WORK/calls")"

	# Under systemd, with the service active: systemctl kill, main only.
	mkdir -p "$WORK/systemd-system"
	echo '{"query_name":"b.example."}' >"$L/decisions.jsonl"
	: >"$WORK/calls"
	PATH=$WORK/bin:$PATH logrotate -f -s "$WORK/lr.state" \
	    "$WORK/logrotate.conf" >"$WORK/lr.out" 2>&1
	check_eq "second rotation" 0 "$?"
	check_eq "postrotate under systemd: systemctl kill of the main process" \
	    "systemctl --quiet is-active dnsward.service|systemctl kill --kill-who=main --signal=USR1 dnsward.service" \
	    "$(tr '\n' '|' <"$WORK/calls" | sed 's/|$//')"
	check_eq "delaycompress: .1 plain, .2 compressed" "yes yes" \
	    "$([ -f "$L/decisions.jsonl.1" ] && echo yes || echo no) $(
	    [ -f "$L/decisions.jsonl.2.gz" ] && echo yes || echo no)"
	check_eq "the compressed one holds the first line" \
	    '{"query_name":"a.example."}' \
	    "$(gzip -dc "$L/decisions.jsonl.2.gz" 2>&1)"
	# Empty files are left alone (notifempty).
	: >"$L/decisions.jsonl"
	: >"$WORK/calls"
	PATH=$WORK/bin:$PATH logrotate -s "$WORK/lr.state" \
	    "$WORK/logrotate.conf" >"$WORK/lr.out" 2>&1
	check_eq "an empty log is not rotated (no postrotate)" "" \
	    "$(cat "$WORK/calls")"
fi

finish
