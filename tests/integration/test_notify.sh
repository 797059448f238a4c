# test_notify.sh -- the service manager protocol (Type=notify) as systemd
# would see it: a datagram socket named by $NOTIFY_SOCKET receives READY=1
# once dnsward serves, RELOADING=1 with MONOTONIC_USEC= and then READY=1
# around a reload (a failed one too), STATUS= lines, and STOPPING=1 on
# SIGTERM.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_notify.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig
PY=/usr/bin/python3
[ -x "$PY" ] || bail "python3 (make check installs it)" "missing"
CTL=${CTL:-$SRCDIR/src/dnsward-ctl}

NSOCK=$WORK/notify.sock
MSGS=$WORK/notify.msgs
# The listener: every datagram, newlines shown as '|', one per line.
"$PY" - "$NSOCK" "$MSGS" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 120
with open(sys.argv[2], "a", buffering=1) as out:
    out.write("listening\n")
    while time.time() < end:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        out.write(d.decode("utf-8", "replace").rstrip("\n").replace("\n", "|") + "\n")
        if d.startswith(b"STOPPING=1"):
            break
EOF
LPID=$!
track "$LPID"
n=0
while [ "$n" -lt 50 ] && ! grep -q listening "$MSGS" 2>/dev/null; do
	sleep 0.1
	n=$((n + 1))
done

# wait_msg PATTERN COUNT: until COUNT lines match (10 s).
wait_msg() {
	local n=0
	while [ "$n" -lt 100 ]; do
		[ "$(grep -c -E "$1" "$MSGS")" -ge "$2" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

start_nsd
NOTIFY_SOCKET=$NSOCK start_dnsward notify 1 "127.0.0.1:$NSD_PORT"
wait_msg '^READY=1' 1 || fail "READY=1 within 10 s" READY "nothing"
check_eq "start: READY=1 with a STATUS" \
    "READY=1|STATUS=serving, policy generation 1" "$(sed -n 2p "$MSGS")"
check_eq "start: READY=1 comes once dnsward answers" NOERROR \
    "$(dw_dig host.test A | dig_status)"
"$CTL" -s "$DW_DIR/control.sock" reload >/dev/null 2>&1
wait_msg '^READY=1' 2 || fail "READY=1 after the reload" READY "nothing"
check_match "reload: RELOADING=1 with MONOTONIC_USEC and a STATUS" \
    '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading ' \
    "$(sed -n 3p "$MSGS")"
usec=$(sed -n 3p "$MSGS" | sed 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/')
now=$("$PY" -c 'import time; print(int(time.monotonic() * 1e6))')
check_le "MONOTONIC_USEC is CLOCK_MONOTONIC (within 60 s of uptime)" \
    $(( (now - usec) / 1000000 < 0 ? (usec - now) / 1000000 : (now - usec) / 1000000 )) 60
check_eq "reload: READY=1 after, generation 2" \
    "READY=1|STATUS=serving, policy generation 2" "$(sed -n 4p "$MSGS")"

printf 'junk: 1\n' >>"$DW_CONF"
kill -HUP "$DW_PID"
wait_msg '^READY=1' 3 || fail "READY=1 after the failed reload" READY "nothing"
check_match "failed reload: RELOADING=1 then READY=1, generation 2 stays" \
    'RELOADING=1.*READY=1\|STATUS=serving, policy generation 2' \
    "$(sed -n '5,6p' "$MSGS" | tr '\n' ' ')"

stop_dnsward TERM
wait_msg '^STOPPING=1' 1 || fail "STOPPING=1 on SIGTERM" STOPPING "nothing"
check_match "stop: STOPPING=1 with a STATUS" '^STOPPING=1\|STATUS=draining' \
    "$(grep STOPPING "$MSGS")"
wait_exit "$LPID" 50
check_log

summary
