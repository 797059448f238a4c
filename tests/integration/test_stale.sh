# test_stale.sh -- serve-stale when the last upstream answers SERVFAIL or
# REFUSED (RFC 8767 4: a failed refresh, as much as a timeout): the client
# gets the expired answer with TTL 30 and Extended DNS Error 3 (19 for a
# stale NXDOMAIN), not the error; a name never cached gets the error.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_stale.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig

ede_code() {
	dig_ede | sed -n 's/^; EDE: \([0-9]*\).*/\1/p'
}

for mode in refused servfail; do
	start_nsd
	ref_host=$(nsd_dig +short host.test A | sort | tr '\n' ' ')
	start_listener BAD_PORT upstream 60 "$mode"
	# max-ttl 1: what is stored expires after a second.
	DW_CACHE="{ serve-stale: 1h, max-ttl: 1, negative-max-ttl: 1 }" \
	    DW_TIMEOUT=300ms start_dnsward "$mode" 1 \
	    "127.0.0.1:$NSD_PORT" "127.0.0.1:$BAD_PORT"
	note "$mode: nsd $NSD_PORT, then a $mode upstream on $BAD_PORT"

	check_eq "$mode: host.test answered by NSD" NOERROR \
	    "$(dw_dig host.test A | dig_status)"
	check_eq "$mode: nosuch.test NXDOMAIN from NSD" NXDOMAIN \
	    "$(dw_dig nosuch.test A | dig_status)"
	# NSD is gone from now on (ICMP port unreachable): the other upstream
	# answers, with its error.
	stop_nsd
	sleep 2

	for proto in udp tcp; do
		opt=
		[ "$proto" = tcp ] && opt=+tcp
		out=$(dw_dig $opt host.test A)
		check_eq "$mode/$proto: expired host.test served stale, not $mode" \
		    NOERROR "$(echo "$out" | dig_status)"
		check_eq "$mode/$proto: the stale data" "$ref_host" \
		    "$(echo "$out" | section ANSWER | awk '{ print $5 }' | sort |
		    tr '\n' ' ')"
		check_eq "$mode/$proto: stale TTL 30" 30 \
		    "$(echo "$out" | section ANSWER | awk '{ print $2 }' |
		    sort -u)"
		check_eq "$mode/$proto: EDE 3 (Stale Answer)" 3 \
		    "$(echo "$out" | ede_code)"
		out=$(dw_dig $opt nosuch.test A)
		check_eq "$mode/$proto: expired NXDOMAIN served stale" NXDOMAIN \
		    "$(echo "$out" | dig_status)"
		check_eq "$mode/$proto: EDE 19 (Stale NXDOMAIN Answer)" 19 \
		    "$(echo "$out" | ede_code)"
		# Whichever upstream is tried last (health reorders them)
		# decides: its REFUSED/SERVFAIL, or SERVFAIL for a timeout.
		out=$(dw_dig $opt never.test A)
		check_match "$mode/$proto: a name never cached gets an error" \
		    '^(REFUSED|SERVFAIL)$' "$(echo "$out" | dig_status)"
	done

	stop_dnsward TERM
	check_log
	check_eq "$mode: log: 4 stale answers" 4 \
	    "$(log_rows cache | grep -c '^stale$')"
	kill "$LISTENER_PID" 2>/dev/null
	wait_exit "$LISTENER_PID" 20
done

summary
