# test_abuse.sh -- regression tests for abuse a reviewer found, each of
# which failed before its fix:
#   1. a TCP client that pipelines queries and never reads the answers
#      (the daemon's memory grew without bound; now it stops reading a
#      client whose unread output passes 64 KB);
#   2. an upstream TCP answer of 65,525 bytes without OPT to a client with
#      EDNS (the client got a length prefix 0 and 65,536 bytes: the reply
#      grew by the OPT past what a TCP frame can carry);
#   3. a TCP upstream trickling its answer a byte at a time (the
#      inactivity timeouts never fired: 12 s instead of resolver.timeout);
#   4. a CNAME-cloaked block answered with the SOA of the blocked target
#      (tracker.test) instead of the question name or an ancestor of it;
#   5. a policy answer cut to TC=1 for a small UDP buffer lost its EDE.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_abuse.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

# vm_kb PID FIELD: VmRSS / VmHWM of PID in kB ("" when gone).
vm_kb() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

# A sanitizer build's memory is no measure of what the daemon keeps (its
# RSS bounds are skipped there; the stall check still holds).
SANITIZED=0
grep -qa -e __asan_init -e __msan_init -e __tsan_init "$DNSWARD" && SANITIZED=1

# A 254-byte name (the longest a question can carry, with the root):
# three 63-byte labels, a 50-byte one, then SUFFIX (9 bytes, e.g. x.test).
long_name() {
	local a b
	a=$(printf 'a%.0s' $(seq 1 63))
	b=$(printf 'b%.0s' $(seq 1 $((50 - ${#1} + 9))))
	echo "$a.$a.$a.$b.$1"
}

# --- 1. TCP output back-pressure ------------------------------------------------
#
# One connection writes up to 400,000 queries (~113 MB: 254-byte names, so
# each REFUSED answer is as big as its query) without ever reading, for at
# most 5 s.  The daemon must stop reading it (the flood stalls: nothing
# accepted for 1 s) and stay small; before the fix it read everything and
# queued the answers (all 400,000 in ~1.5 s, ~128 MB of RSS).

start_listener UP_PORT blackhole 60
DW_SINK="file: /dev/null" start_dnsward flood 1 "127.0.0.1:$UP_PORT"
note "dnsward (flood) on port $DW_PORT, pid $DW_PID, decisions to /dev/null"
rss0=$(vm_kb "$DW_PID" VmRSS)
flood_name=$(long_name flood.test)
# Class CH is answered at once (REFUSED), no upstream involved.
"$DWQ" tcp-flood 127.0.0.1 "$DW_PORT" 400000 5 --class 3 \
    --name "$flood_name" --stall 1000 --hold 3000 >"$WORK/flood.out" 2>&1 &
FLOOD_PID=$!
track "$FLOOD_PID"
t0=$(now_ms)

# During the flood: UDP and a fresh TCP connection are still answered.
sleep 0.5
check_match "during the flood: UDP query answered" "^id=101 rcode=REFUSED " \
    "$("$DWQ" query 127.0.0.1 "$DW_PORT" a.test A --class 3 --id 101 \
    --timeout 2000 2>&1)"
check_match "during the flood: query on a fresh TCP connection answered" \
    "^id=102 rcode=REFUSED " \
    "$("$DWQ" query 127.0.0.1 "$DW_PORT" a.test A --class 3 --id 102 \
    --tcp --timeout 2000 2>&1)"

# The flood's result line comes before its 3 s hold (connection open,
# answers unread): the daemon's memory is measured while it holds.
n=0
while [ "$n" -lt 80 ] && ! grep -q '^written=' "$WORK/flood.out"; do
	sleep 0.1
	n=$((n + 1))
done
fl=$(grep '^written=' "$WORK/flood.out")
note "flood: $fl (after $(($(now_ms) - t0)) ms)"
rss=$(vm_kb "$DW_PID" VmRSS)
hwm=$(vm_kb "$DW_PID" VmHWM)
note "dnsward VmRSS ${rss0:-?} kB before, ${rss:-?} kB after the flood, VmHWM ${hwm:-?} kB"
check_eq "flood: the daemon stopped reading the client (writes stalled)" 1 \
    "$(kv stalled "$fl")"
if [ "$SANITIZED" = 1 ]; then
	skip "flood: RSS bounds (sanitizer build: shadow memory, quarantine)"
else
	check_le "flood: dnsward VmRSS while the unread connection is held (kB)" \
	    "${rss:-999999}" 65536
	check_le "flood: dnsward peak RSS (VmHWM, kB)" "${hwm:-999999}" 65536
fi
check_match "after the flood: UDP query answered" "^id=103 rcode=REFUSED " \
    "$("$DWQ" query 127.0.0.1 "$DW_PORT" a.test A --class 3 --id 103 \
    --timeout 2000 2>&1)"
check_match "after the flood: query on a fresh TCP connection answered" \
    "^id=104 rcode=REFUSED " \
    "$("$DWQ" query 127.0.0.1 "$DW_PORT" a.test A --class 3 --id 104 \
    --tcp --timeout 2000 2>&1)"
wait_exit "$FLOOD_PID" 60
check_eq "tcp-flood client finished" 0 "$WAIT_ST"
check_match "after the flooder hung up: fresh TCP connection answered" \
    "^id=105 rcode=REFUSED " \
    "$("$DWQ" query 127.0.0.1 "$DW_PORT" a.test A --class 3 --id 105 \
    --tcp --timeout 2000 2>&1)"
hwm=$(vm_kb "$DW_PID" VmHWM)
[ "$SANITIZED" = 1 ] ||
    check_le "flood: dnsward peak RSS at the end (VmHWM, kB)" \
    "${hwm:-999999}" 65536
stop_dnsward TERM
kill "$LISTENER_PID" 2>/dev/null
wait_exit "$LISTENER_PID" 20

# --- 2. 65,535-byte framing -----------------------------------------------------
#
# The upstream truncates over UDP; over TCP it answers big.test with 65,525
# bytes and no OPT.  With the client's EDNS the rewritten answer would be
# 65,536 bytes: more than a frame holds.  Every frame must be well formed
# (its prefix = the bytes that follow), the answer NOERROR or SERVFAIL, and
# the connection must go on: a second query on it matched by ID.

start_listener UP_PORT upstream 60 big 65525
DW_TIMEOUT=1500ms start_dnsward big 1 "127.0.0.1:$UP_PORT"
note "upstream (big) 127.0.0.1:$UP_PORT, dnsward port $DW_PORT"

count_sent tcp 2
out=$("$DWQ" tcp-seq 127.0.0.1 "$DW_PORT" big.test NULL small.test A \
    --edns 1232 --timeout 4000 2>&1)
st=$?
note "tcp-seq (EDNS): $(echo "$out" | tr '\n' '|')"
check_eq "EDNS client, 65,525-byte upstream answer: every frame well formed" \
    0 "$st"
check_match "EDNS client: big.test answered NOERROR or SERVFAIL, ID matched" \
    "^1: id=[0-9]+ rcode=(SERVFAIL|NOERROR) .*parsed=1$" "$out"
check_match "EDNS client: same connection, next query answered, ID matched" \
    "^2: id=[0-9]+ rcode=NOERROR .* an=1 .*qname=small\.test\. " "$out"
check_eq "EDNS client: nothing after the last frame" "trailing=0" \
    "$(echo "$out" | tail -n 1)"
count_sent tcp 2
out=$("$DWQ" tcp-seq 127.0.0.1 "$DW_PORT" big.test NULL small.test A \
    --edns none --timeout 4000 2>&1)
note "tcp-seq (no EDNS): $(echo "$out" | tr '\n' '|')"
check_match "no-EDNS client: the 65,525-byte answer framed whole" \
    "^1: id=[0-9]+ rcode=NOERROR .* an=1 .*size=65525 parsed=1$" "$out"
check_match "no-EDNS client: next query on the connection answered" \
    "^2: id=[0-9]+ rcode=NOERROR .*qname=small\.test\. " "$out"
stop_dnsward TERM
check_log
kill "$LISTENER_PID" 2>/dev/null
wait_exit "$LISTENER_PID" 20

# --- 3. trickling TCP upstream --------------------------------------------------
#
# The upstream truncates over UDP, then over TCP sends a length prefix and
# one byte every 300 ms.  resolver.timeout 1500ms, one upstream: SERVFAIL
# within the timeout + 1 s (before the fix: after the whole trickle).

# The fake upstream serves one TCP connection at a time and (before the
# fix) the daemon held the trickle open: a fresh upstream and daemon for
# each client transport, so that one cannot hide behind the other.
for t in udp tcp; do
	opt=""
	[ "$t" = tcp ] && opt=--tcp
	start_listener UP_PORT upstream 60 slow 300
	SLOW_UP=$LISTENER_PID
	DW_TIMEOUT=1500ms start_dnsward "slow-$t" 1 "127.0.0.1:$UP_PORT"
	note "upstream (slow) 127.0.0.1:$UP_PORT, dnsward port $DW_PORT"
	t0=$(now_ms)
	out=$(dw_q slow.test A --id 4242 --timeout 5000 $opt 2>&1)
	t1=$(now_ms)
	check_match "$t client, trickling upstream: SERVFAIL" \
	    "^id=4242 rcode=SERVFAIL " "$out"
	check_le "$t client, trickling upstream: answered within timeout + 1 s (ms)" \
	    $((t1 - t0)) 2500
	# Hang up the trickle (the old daemon would still be waiting on it).
	kill "$SLOW_UP" 2>/dev/null
	wait_exit "$SLOW_UP" 20
	stop_dnsward TERM
	check_log
done

# --- 4. and 5. policy answers -----------------------------------------------------

make_zone() {
	cat >"$1" <<'EOF'
$ORIGIN test.
$TTL 300
@		IN SOA	ns.test. admin.test. 2026112301 3600 600 86400 300
@		IN NS	ns.test.
ns		IN A	127.0.0.1
www.site	IN CNAME x.tracker.test.
x.tracker	IN A	192.0.2.10
tracker		IN A	192.0.2.11
EOF
}

F=$WORK/feeds
mkdir -p "$F"
printf 'tracker.test\n' >"$F/trackers.txt"
printf 'long.test\n' >"$F/long.txt"
# A rule name long enough to fill the EDE text (capped below 200 bytes).
LONG_RULE=rule-$(printf 'r%.0s' $(seq 1 150))
DW_EXTRA="feeds:
  - { id: trackers, path: $F/trackers.txt, format: plain }
  - { id: long, path: $F/long.txt, format: plain }
policy:
  default: allow
  redirection: inspect
  block-ttl: 45s
  groups:
    - name: baseline
      priority: 100
      rules:
        - { name: trackers, priority: 10, match: { feed: trackers }, action: block, response: nxdomain }
        - { name: $LONG_RULE, priority: 20, match: { feed: long }, action: block, response: nxdomain }"

start_nsd
DW_EXTRA=$DW_EXTRA start_dnsward pol 1 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward (policy) on port $DW_PORT"

soa_owners() {
	section AUTHORITY | awk '$4 == "SOA" {print $1}'
}

check_eq "zone: www.site.test is a CNAME to x.tracker.test" \
    "x.tracker.test." "$(nsd_dig +short www.site.test A | head -n 1)"
for t in udp tcp; do
	opt=+notcp
	[ "$t" = tcp ] && opt=+tcp
	out=$(dw_dig $opt www.site.test A)
	check_eq "$t: www.site.test (CNAME to a blocked tracker) NXDOMAIN" \
	    NXDOMAIN "$(echo "$out" | dig_status)"
	check_match "$t: www.site.test: the SOA owner is the question name or an ancestor" \
	    '^(www\.site\.test\.|site\.test\.|test\.|\.)$' \
	    "$(echo "$out" | soa_owners)"
	check_eq "$t: www.site.test: SOA owned by www.site.test." \
	    "www.site.test." "$(echo "$out" | soa_owners)"
	out=$(dw_dig $opt x.tracker.test A)
	check_eq "$t: x.tracker.test (blocked directly) NXDOMAIN" NXDOMAIN \
	    "$(echo "$out" | dig_status)"
	check_eq "$t: x.tracker.test: SOA owned by tracker.test." \
	    "tracker.test." "$(echo "$out" | soa_owners)"
done

# 5. A blocked 254-byte name with a full EDE text: the NXDOMAIN + SOA + EDE
# answer (~545 bytes) passes a 512-byte EDNS buffer, so it is cut to TC=1;
# the cut answer must keep the EDE code (15, Blocked).
ln=$(long_name long.test)
out=$(dw_dig +notcp +bufsize=512 "$ln" A)
check_match "UDP, 512-byte buffer: long blocked name cut to TC=1" \
    "^tc( |$)|( tc( |$))" "$(echo "$out" | dig_flags)"
check_eq "UDP, 512-byte buffer: the cut answer still NXDOMAIN" NXDOMAIN \
    "$(echo "$out" | dig_status)"
check_match "UDP, 512-byte buffer: the cut answer keeps EDE 15 (Blocked)" \
    "^; EDE: 15 \(Blocked\)" "$(echo "$out" | grep '^; EDE:')"
out=$(dw_dig +tcp "$ln" A)
check_match "TCP: the whole answer, EDE 15 with the rule's name" \
    "^; EDE: 15 \(Blocked\): \(blocked by rule 'rule-rrr" \
    "$(echo "$out" | grep '^; EDE:')"
check_eq "TCP: the whole answer has the SOA" "1" \
    "$(echo "$out" | soa_owners | wc -l | tr -d ' ')"
stop_dnsward TERM
check_log

finish
