# test_tcp.sh -- TCP: pipelining, large answers, idle timeout, the
# connection cap; with two worker threads.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_tcp.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

start_nsd
DW_TCP_MAX=50 DW_TCP_IDLE=2s start_dnsward tcp 2 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward (threads: 2) on port $DW_PORT"

ref_a=$(nsd_dig +short host.test A | sort)

# --- both workers answer -----------------------------------------------------

bad=0
for i in $(seq 1 10); do
	[ "$(dw_dig +short host.test A | sort)" = "$ref_a" ] || bad=$((bad + 1))
	[ "$(dw_dig +tcp +short host.test A | sort)" = "$ref_a" ] ||
	    bad=$((bad + 1))
done
check_eq "threads: 2 -- 10 UDP + 10 TCP queries from new sockets answered" \
    0 "$bad"

# --- pipelining: N queries in one write --------------------------------------

count_sent tcp 20
out=$("$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 20 host.test --timeout 5000)
check_eq "20 pipelined TCP queries in one write all answered, IDs match" \
    "ok 20" "$out"
count_sent tcp 200
out=$("$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 200 www.test --timeout 8000)
check_eq "200 pipelined TCP queries in one write" "ok 200" "$out"
count_sent tcp 10
out=$("$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 10 big.test --type TXT \
    --timeout 8000)
check_eq "10 pipelined queries with 8 KB answers" "ok 10" "$out"
count_sent tcp 20
out=$("$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 20 nosuch.test \
    --timeout 5000)
check_eq "20 pipelined NXDOMAIN queries" "ok 20" "$out"
if have_ipv6; then
	count_sent tcp 20
	out=$("$DWQ" tcp-pipeline ::1 "$DW_PORT" 20 host.test --timeout 5000)
	check_eq "20 pipelined TCP queries over [::1]" "ok 20" "$out"
else
	skip "IPv6 pipelining: no IPv6 loopback"
fi

# Several pipelining connections at once.
pids=""
for i in 1 2 3 4 5; do
	count_sent tcp 30
	"$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 30 host.test --timeout 8000 \
	    >"$WORK/pipe.$i" 2>&1 &
	pids="$pids $!"
	track $!
done
for p in $pids; do
	wait_exit "$p" 100
done
check_eq "5 concurrent pipelining connections x 30 queries" \
    "ok 30 ok 30 ok 30 ok 30 ok 30" "$(cat "$WORK"/pipe.* | tr '\n' ' ' |
    sed 's/ $//')"

out=$(dw_q host.test A --tcp --id 999)
check_match "a single TCP query" "^id=999 rcode=NOERROR .* an=2 " "$out"

# --- idle timeout ---------------------------------------------------------------

out=$("$DWQ" tcp-idle 127.0.0.1 "$DW_PORT" 6000)
ms=${out#closed }
if [ "$out" = "$ms" ]; then
	fail "idle TCP connection closed by the server (idle-timeout 2s)" \
	    "closed within 6000 ms" "$out"
else
	check_ge "idle TCP connection not closed before idle-timeout 2s" \
	    "$ms" 1500
	check_le "idle TCP connection closed soon after idle-timeout 2s" \
	    "$ms" 4500
fi

# --- connection cap (max-connections: 50) ------------------------------------

"$DWQ" tcp-hold 127.0.0.1 "$DW_PORT" 80 1500 >"$WORK/hold" 2>&1 &
hold=$!
track "$hold"
sleep 0.5
out=$(dw_dig +short host.test A | sort)
check_eq "UDP answered while 80 TCP connections are held (cap 50)" \
    "$ref_a" "$out"
wait_exit "$hold" 50
note "tcp-hold 80 connections: $(cat "$WORK/hold")"
# The held connections are gone (closed by us); a new one is served.
n=0
while [ "$n" -lt 30 ]; do
	out=$("$DWQ" query 127.0.0.1 "$DW_PORT" host.test A --tcp \
	    --timeout 1000 2>&1)
	case "$out" in id=*) count_sent tcp 1; break ;; esac
	# "closed"/"connect-failed": the server refused it before reading
	sleep 0.1
	n=$((n + 1))
done
check_match "TCP served again after the connections over the cap are gone" \
    "rcode=NOERROR .* an=2 " "$out"

# --- large answers with two workers -------------------------------------------

out=$(dw_q big.test TXT --tcp)
check_match "big TXT over TCP complete (threads: 2)" " tc=0 .* an=40 " "$out"

# --- stop and log --------------------------------------------------------------

stop_dnsward TERM
check_log
n=$(log_rows transport query_name | awk -F'\t' \
    '$1 == "TCP" && $2 == "host.test."' | wc -l)
check_ge "log: pipelined queries logged as TCP" "$n" 170
n=$(log_rows id | sort -u | tr '\n' ' ')
note "worker ids seen in the log: $n"

finish
