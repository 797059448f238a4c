# test_failover.sh -- upstream failures: a dead first upstream falls over
# to the next; all upstreams dead (closed ports, or black holes that never
# answer) gives SERVFAIL within timeout x upstreams + 1 s; the log says so.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_failover.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

# Forwarding and request parsing are under test: every query must reach
# the upstream, not the cache.
DW_CACHE="{ size: off }"

TIMEOUT_MS=500

start_nsd
ref_a=$(nsd_dig +short host.test A | sort)

# dead_port VAR: a UDP port nothing listens on (ICMP port unreachable).
dead_port() {
	pick_port "$1" || bail "no free port for a dead upstream"
}

# start_blackhole: a UDP socket that reads and never answers (60 s);
# sets BH_PORT.
start_blackhole() {
	start_listener BH_PORT blackhole 60
}

# timed_q DESC-PREFIX MAXMS NAME TYPE [dwq options]: one query, elapsed
# time in TIMED_MS, the dwq line in TIMED_OUT.
timed_q() {
	local t0 t1
	t0=$(date +%s%N)
	TIMED_OUT=$(dw_q "$@" --timeout 6000)
	t1=$(date +%s%N)
	TIMED_MS=$(((t1 - t0) / 1000000))
}

# --- dead first upstream, NSD second --------------------------------------

dead_port D1
start_dnsward dead1 1 "127.0.0.1:$D1" "127.0.0.1:$NSD_PORT"
note "dead upstream 127.0.0.1:$D1, then nsd 127.0.0.1:$NSD_PORT"
for proto in udp tcp; do
	t=
	[ "$proto" = tcp ] && t=--tcp
	timed_q host.test A $t
	check_match "dead first upstream: $proto query answered by the second" \
	    "rcode=NOERROR .* an=2 " "$TIMED_OUT"
	check_le "dead first upstream: $proto answer within timeout + 1 s (ms)" \
	    "$TIMED_MS" $((TIMEOUT_MS + 1000))
done
check_eq "dead first upstream: dig answer equals NSD's" "$ref_a" \
    "$(dw_dig +short host.test A | sort)"
out=$(dw_dig +tcp +short big.test TXT | wc -l)
check_eq "dead first upstream: big TXT over TCP complete" 40 "$out"
stop_dnsward TERM
check_log
n=$(log_rows rcode upstream | awk -F'\t' -v u="127.0.0.1:$NSD_PORT" \
    '$1 == "NOERROR" && $2 == u' | wc -l)
check_eq "log: answers name the upstream that answered (nsd)" \
    "$(sent_total)" "$n"

# --- black hole first, NSD second -------------------------------------------

start_blackhole
B1=$BH_PORT
start_dnsward bh1 1 "127.0.0.1:$B1" "127.0.0.1:$NSD_PORT"
note "black hole 127.0.0.1:$B1, then nsd 127.0.0.1:$NSD_PORT"
timed_q host.test A
check_match "black-hole first upstream: answered by the second" \
    "rcode=NOERROR .* an=2 " "$TIMED_OUT"
check_le "black-hole first upstream: answer within timeout + 1 s (ms)" \
    "$TIMED_MS" $((TIMEOUT_MS + 1000))
stop_dnsward TERM
check_log

# --- all upstreams dead: two closed ports -----------------------------------

dead_port D1
dead_port D2
start_dnsward alldead 2 "127.0.0.1:$D1" "127.0.0.1:$D2"
note "upstreams 127.0.0.1:$D1 and 127.0.0.1:$D2, both closed"
bound=$((2 * TIMEOUT_MS + 1000))
for proto in udp tcp; do
	t=
	[ "$proto" = tcp ] && t=--tcp
	timed_q host.test A $t --id 321
	check_match "two dead upstreams: $proto SERVFAIL, client ID kept" \
	    "^id=321 rcode=SERVFAIL qr=1 " "$TIMED_OUT"
	check_le "two dead upstreams: $proto SERVFAIL within bound (ms)" \
	    "$TIMED_MS" "$bound"
done
out=$(dw_dig host.test A)
check_eq "two dead upstreams: dig sees SERVFAIL" SERVFAIL \
    "$(echo "$out" | dig_status)"
# The daemon stays healthy after failures: several at once.
pids=""
for i in 1 2 3 4 5 6; do
	count_sent udp 1
	"$DWQ" query 127.0.0.1 "$DW_PORT" "q$i.test" A --timeout 6000 \
	    >"$WORK/par.$i" 2>&1 &
	pids="$pids $!"
	track $!
done
for p in $pids; do
	wait_exit "$p" 80
done
n=$(cat "$WORK"/par.* | grep -c 'rcode=SERVFAIL')
check_eq "two dead upstreams: 6 concurrent queries all get SERVFAIL" 6 "$n"
stop_dnsward TERM
check_log
n=$(log_rows rcode | grep -c '^SERVFAIL$')
check_eq "log: upstream failures logged with rcode SERVFAIL" \
    "$(sent_total)" "$n"

# --- all upstreams black holes ------------------------------------------------

start_blackhole
B1=$BH_PORT
start_blackhole
B2=$BH_PORT
start_dnsward allbh 1 "127.0.0.1:$B1" "127.0.0.1:$B2"
note "upstreams 127.0.0.1:$B1 and 127.0.0.1:$B2, both black holes"
for proto in udp tcp; do
	t=
	[ "$proto" = tcp ] && t=--tcp
	timed_q host.test A $t --id 4321
	check_match "two black-hole upstreams: $proto SERVFAIL, client ID kept" \
	    "^id=4321 rcode=SERVFAIL qr=1 " "$TIMED_OUT"
	check_le "two black-hole upstreams: $proto SERVFAIL within bound (ms)" \
	    "$TIMED_MS" "$bound"
	note "two black-hole upstreams: $proto SERVFAIL after $TIMED_MS ms"
done
stop_dnsward TERM
check_log
n=$(log_rows rcode | grep -c '^SERVFAIL$')
check_eq "log: black-hole failures logged with rcode SERVFAIL" \
    "$(sent_total)" "$n"

finish
