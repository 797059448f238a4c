# test_threads.sh -- two workers sharing the cache, the policy and the
# decision log, under ThreadSanitizer: parallel UDP and TCP clients whose
# queries hit, miss, store and evict in the same shards at once, while
# SIGHUP reloads swap the policy under them.  Any race
# TSan sees is reported on the daemon's stderr, which stop_dnsward fails on.
#
# Run: DNSWARD_TSAN=tests/tsan/dnsward TOOLS=tests/tools \
#      bash tests/integration/test_threads.sh
# (make test builds tests/tsan/dnsward: the daemon built with
# -fsanitize=thread, whatever SANITIZE says.)

. "${SRCDIR:-.}/tests/integration/lib.sh"

DNSWARD=${DNSWARD_TSAN:-${SRCDIR:-.}/tests/tsan/dnsward}
[ -x "$DNSWARD" ] || bail "ThreadSanitizer daemon $DNSWARD built" \
    "missing (make tests/tsan/dnsward)"
export TSAN_OPTIONS="${TSAN_OPTIONS:-} second_deadlock_stack=1"
# A TSan process takes its time to exit on a busy machine.
DW_STOP_WAIT=30

need dig

# One block feed, so the policy runs its lookups on both workers too.
printf 'blocked.test\n' >"$WORK/block.txt"
DW_EXTRA=$(block_feed_conf "$WORK/block.txt")

start_nsd

# A small cache, so that stores evict while other queries hit.
DW_ALLOW='"127.0.0.0/8", "::1/128"' \
    DW_CACHE="{ size: 64k, serve-stale: 1h }" DW_TIMEOUT=2s \
    start_dnsward tsan 2 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward (TSan, threads: 2) on $DW_PORT"

# Each batch: the same few names (hits), distinct missing names (negative
# answers stored, then evicted), a CNAME chain, a blocked name.
N=240
for b in 1 2 3 4; do
	for i in $(seq 1 $N); do
		case $((i % 6)) in
		0)	echo "host.test A" ;;
		1)	echo "www.test AAAA" ;;
		2)	echo "q$b-$i.nosuch.test A" ;;
		3)	echo "chain.test A" ;;
		4)	echo "blocked.test A" ;;
		5)	echo "r$b-$i.nosuch.test TXT" ;;
		esac
	done >"$WORK/batch$b"
done

pids=()
# Each client from its own address (see test_refresh.sh: dig's
# SO_REUSEPORT sockets can share an ephemeral port).
for b in 1 2 3 4; do
	dig @127.0.0.1 -b "127.0.0.$((b + 1))" -p "$DW_PORT" +tries=1 \
	    +time=10 +ignore -f "$WORK/batch$b" >"$WORK/out$b" 2>&1 &
	pids+=($!)
	count_sent udp $N
done
for i in 1 2; do
	"$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 50 host.test \
	    --timeout 20000 >"$WORK/tcp$i" 2>&1 &
	pids+=($!)
	count_sent tcp 50
done
# Reloads while both workers are busy: the generation swap races with
# every query's use of the policy.
for i in 1 2 3; do
	kill -HUP "$DW_PID"
	sleep 0.2
done
for p in "${pids[@]}"; do
	wait "$p"
done

bad=0
for b in 1 2 3 4; do
	n=$(grep -c 'status: ' "$WORK/out$b")
	[ "$n" = "$N" ] || bad=$((bad + 1))
done
check_eq "4 parallel UDP clients: every query answered" 0 "$bad"
# When one is missing: what dig said, the replies the daemon could not
# send, the queries it logged without a reply, its slowest answer.
if [ "$bad" != 0 ]; then
	grep -h -i -E 'timed out|comm.*error|no servers' "$WORK"/out? |
	    sort | uniq -c | sed 's/^/# dig: /'
	note "send errors: $("$SRCDIR/src/dnsward-ctl" -s "$DW_DIR/control.sock" \
	    stats 2>/dev/null | grep -o '"send_errors":[0-9]*')"
	grep '"rcode":null' "$DW_LOG" | head -5 | sed 's/^/# log: /'
	note "slowest answer: $(grep -o '"latency_us":[0-9]*' "$DW_LOG" |
	    cut -d: -f2 | sort -n | tail -1) us"
fi
check_eq "TCP pipeline 1 answered" "ok 50" "$(cat "$WORK/tcp1")"
check_eq "TCP pipeline 2 answered" "ok 50" "$(cat "$WORK/tcp2")"
n=$(cat "$WORK"/out? | grep -c 'status: SERVFAIL')
check_eq "no SERVFAIL under concurrent load" 0 "$n"

check_ge "reloads under load took effect" \
    "$(grep -c 'reload: generation' "$DW_DIR/stderr")" 1

stop_dnsward TERM
check_log
hits=$(log_rows cache | grep -c '^hit$')
check_ge "some answers came from the shared cache" "$hits" 1
check_match "the cache evicted under its 64k bound" \
    'cache: [0-9]+ entries, .* [1-9][0-9]* evicted' \
    "$(grep 'cache:' "$DW_DIR/stderr")"

summary
