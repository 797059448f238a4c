# test_signals.sh -- signals and log sinks: SIGUSR1 reopens the decision
# log (logrotate), SIGHUP does not kill the daemon, SIGTERM finishes a query
# in flight and flushes the log, SIGINT exits 0, the stdout sink.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_signals.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

start_nsd
ref_a=$(nsd_dig +short host.test A | sort)

# --- SIGUSR1: reopen the log file ----------------------------------------------

start_dnsward usr1 1 "127.0.0.1:$NSD_PORT"
for i in 1 2 3; do
	dw_dig +short host.test A >/dev/null
done
check_eq "3 queries logged before rotation" 3 "$(wait_log 3)"
mv "$DW_LOG" "$DW_LOG.1"
kill -USR1 "$DW_PID"
# The writer reopens asynchronously: poll until the new file appears.
n=0
while [ "$n" -lt 50 ] && [ ! -e "$DW_LOG" ]; do
	sleep 0.1
	n=$((n + 1))
done
check_eq "SIGUSR1 creates a new log file at the configured path" yes \
    "$([ -e "$DW_LOG" ] && echo yes || echo no)"
for i in 1 2; do
	check_eq "answered after SIGUSR1 ($i)" "$ref_a" \
	    "$(dw_dig +short host.test A | sort)"
done
check_eq "queries after SIGUSR1 go to the new file" 2 "$(wait_log 2)"
check_eq "the rotated file keeps the 3 earlier lines" 3 \
    "$(log_lines "$DW_LOG.1")"
stop_dnsward TERM
out=$("$DWQ" jsoncheck "$DW_LOG.1" $LOG_FIELDS 2>&1)
check_eq "the rotated file is valid JSON lines" "3 lines ok" "$out"
out=$("$DWQ" jsoncheck "$DW_LOG" $LOG_FIELDS 2>&1)
check_eq "the new file is valid JSON lines" "2 lines ok" "$out"

# --- SIGHUP does not kill it ------------------------------------------------------

start_dnsward hup 1 "127.0.0.1:$NSD_PORT"
kill -HUP "$DW_PID"
sleep 0.5
check_eq "still running after SIGHUP" yes \
    "$(alive "$DW_PID" && echo yes || echo no)"
if alive "$DW_PID"; then
	check_eq "answering after SIGHUP" "$ref_a" \
	    "$(dw_dig +short host.test A | sort)"
	stop_dnsward INT
	check_log
else
	wait_exit "$DW_PID" 10
	note "dnsward exited with status $WAIT_ST on SIGHUP"
fi

# --- SIGTERM with a query in flight ------------------------------------------------

start_listener p blackhole 30
DW_TIMEOUT=1500ms start_dnsward drain 1 "127.0.0.1:$p"
count_sent udp 1
"$DWQ" query 127.0.0.1 "$DW_PORT" host.test A --id 888 --timeout 8000 \
    >"$WORK/inflight" 2>&1 &
q=$!
track "$q"
sleep 0.3
t0=$(now_ms)
stop_dnsward TERM
t1=$(now_ms)
check_le "SIGTERM with a query in flight: exit within timeout + 2 s (ms)" \
    $((t1 - t0)) 3500
wait_exit "$q" 80
check_match "the query in flight at SIGTERM still gets its answer (SERVFAIL)" \
    "^id=888 rcode=SERVFAIL " "$(cat "$WORK/inflight")"
check_log

# --- the stdout sink, and SIGINT ------------------------------------------------

DW_SINK="stdout: true" start_dnsward stdout 2 "127.0.0.1:$NSD_PORT"
for i in 1 2 3 4; do
	dw_dig +short host.test A >/dev/null
done
dw_dig +tcp +short host.test A >/dev/null
stop_dnsward INT
check_log

finish
