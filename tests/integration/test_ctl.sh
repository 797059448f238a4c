# test_ctl.sh -- the control socket and every dnsward-ctl command against a
# running daemon (NSD upstream on loopback, dig over UDP and TCP): status
# (version, uptime, pid, generation, feeds with entries and SHA-256,
# upstreams with srtt and counters that move, cache, decision log); stats
# (valid JSON, counters that move by exactly what was sent); flush of a
# name and below and of everything (seen in the decision log's "cache"
# field), and with the cache off; explain against the live policy, before
# and after a reload, and its argument errors; the client's own errors
# (no daemon, stale socket, permission denied, -c and its fall-back to
# the default socket, -s, usage, a server that is not dnsward); the raw
# protocol (status line, line length limit at its boundary, non-printable
# bytes, empty and unterminated requests, too many words, 16 clients at
# most, the read timeout); a second daemon on the same socket refused; a
# stale socket replaced; the socket removed at exit.
#
# Not here (see test_refresh.sh, test_privdrop.sh): reload's own output
# and failures, feed refresh, the shrink guard, the privilege drop.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_ctl.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig
need python3
need sha256sum
# The interpreter itself: a version manager's shim costs a second a call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PYTHON" ] || bail "python3 runs" "${PYTHON:-no interpreter}"

CTL=${CTL:-$SRCDIR/src/dnsward-ctl}
[ -x "$CTL" ] || bail "dnsward-ctl CTL=$CTL executable" "missing"

# The unprivileged client (user nobody) must reach the socket's directory:
# only the socket's own mode may stop it.
chmod 755 "$WORK"

# --- a small unix-socket client and fake servers (python3) ------------------

PY=$WORK/ctlclient.py
cat >"$PY" <<'EOF'
import os, socket, sys, time

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    return s

def read_all(s):
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        except socket.timeout:
            out += b"<timeout>"
            break
        if not b:
            break
        out += b
    return out

def send(s, data):
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass

def emit(b):
    sys.stdout.buffer.write(b)
    sys.stdout.flush()

cmd = sys.argv[1]
if cmd == "raw":
    # raw SOCK PYTHON-BYTES-LITERAL [shut]: send, read to the end, print.
    s = connect(sys.argv[2])
    send(s, eval(sys.argv[3]))
    if len(sys.argv) > 4 and sys.argv[4] == "shut":
        s.shutdown(socket.SHUT_WR)
    emit(read_all(s))
elif cmd == "hold":
    # hold SOCK N READY RELEASE: N idle connections; write READY; keep
    # them until the file RELEASE exists (at most 8 s: the daemon drops
    # idle clients after 10 s), then close them.
    conns = [connect(sys.argv[2]) for _ in range(int(sys.argv[3]))]
    open(sys.argv[4], "w").write("%d\n" % len(conns))
    end = time.time() + 8
    while time.time() < end and not os.path.exists(sys.argv[5]):
        time.sleep(0.05)
    for c in conns:
        c.close()
elif cmd == "idle":
    # idle SOCK PARTIAL OUT: connect, send PARTIAL (no newline), and
    # write what the daemon answers (at most 15 s) and the seconds taken.
    t0 = time.time()
    s = connect(sys.argv[2])
    send(s, sys.argv[3].encode())
    b = read_all(s)
    open(sys.argv[4], "wb").write(b + b"seconds=%d\n" % int(time.time() - t0))
elif cmd == "fake":
    # fake SOCK MODE: a server that is not dnsward, for one client
    # (at most 10 s): silent, garbage, or close.
    path, mode = sys.argv[2], sys.argv[3]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(10)
    try:
        c, _ = srv.accept()
    except socket.timeout:
        sys.exit(1)
    c.settimeout(10)
    try:
        c.recv(4096)
    except socket.timeout:
        pass
    if mode == "garbage":
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    elif mode == "silent":
        # Until the client gives up and closes.
        try:
            while c.recv(4096):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
    c.close()
    srv.close()
    os.unlink(path)
EOF

# raw BYTES [shut]: one raw request on $SOCK; prints the whole answer.
raw() {
	"$PYTHON" "$PY" raw "$SOCK" "$@" 2>&1
}

# ctl ARGS...: dnsward-ctl on $SOCK; CTL_OUT, CTL_ERR, CTL_ST.
ctl() {
	"$CTL" -t 20 -s "$SOCK" "$@" >"$WORK/ctl.out" 2>"$WORK/ctl.err"
	CTL_ST=$?
	CTL_OUT=$(cat "$WORK/ctl.out")
	CTL_ERR=$(cat "$WORK/ctl.err")
}

# jget JSON PATH: a value of the stats object ("a.b.0.c"); a missing key
# is 0 (the decisions by reason hold only the reasons seen).
jget() {
	"$PYTHON" -c '
import json, sys
d = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    if isinstance(d, list):
        d = d[int(k)]
    elif isinstance(d, dict):
        d = d.get(k, 0)
    else:
        d = 0
print(json.dumps(d) if isinstance(d, (bool, dict, list)) or d is None else d)
' "$1" "$2" 2>&1
}

# stat_until PATH TARGET: poll stats (2 s at most) until PATH reaches at
# least TARGET (the workers count a query around its reply); echoes the
# last value seen.
stat_until() {
	local n=0 v=
	while [ "$n" -lt 20 ]; do
		v=$(jget "$("$CTL" -s "$SOCK" stats 2>&1)" "$1")
		[ "$v" -ge "$2" ] 2>/dev/null && break
		sleep 0.1
		n=$((n + 1))
	done
	echo "$v"
}

# up_field LINE WORD: the number before WORD in an upstream status line.
up_field() {
	printf '%s\n' "$1" | sed -n "s/.* \([0-9][0-9]*\) $2.*/\1/p"
}

# --- set-up -----------------------------------------------------------------

FEED=$WORK/block.txt
GOOD=$WORK/allow.txt
IPS=$WORK/ips.txt
printf '# blocked names\nevil.test\nads.test\n' >"$FEED"
printf 'good.evil.test\n' >"$GOOD"
printf '198.51.100.0/24\n' >"$IPS"
DW_EXTRA="feeds:
  - { id: bad, path: $FEED }
  - { id: good, path: $GOOD }
  - { id: ips, path: $IPS, format: ip }
policy:
  groups:
    - name: g
      priority: 10
      rules:
        - { name: allow-good, priority: 5, match: { feed: good }, action: allow }
        - { name: block-bad, priority: 10, match: { feed: bad }, action: block }
        - { name: block-ips, priority: 20, match: { answer-ip: ips }, action: block }"

# sub.test and below: the flush of a name and below; *.miss: names that
# miss the cache every time; rebind: an answer in the blocked network.
NSD_EXTRA="sub	IN A	192.0.2.30
a.sub	IN A	192.0.2.31
b.sub	IN A	192.0.2.32
other	IN A	192.0.2.33
*.miss	IN A	192.0.2.50
rebind	IN A	198.51.100.7"
start_nsd
# A second upstream nothing listens on: after NSD in the order, never
# asked while NSD answers.
pick_port DEAD || bail "no free port for a dead upstream"
start_dnsward ctl 2 "127.0.0.1:$NSD_PORT" "127.0.0.1:$DEAD"
SOCK=$DW_DIR/control.sock
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on $DW_PORT, socket $SOCK"

check_eq "control socket: a socket, mode 0660, ours" \
    "socket 660 $(id -u) $(id -g)" \
    "$(stat -c '%F %a %u %g' "$SOCK" 2>&1)"

# --- status -----------------------------------------------------------------

ctl status
check_eq "status: exit 0" 0 "$CTL_ST"
check_eq "status: nothing on stderr" "" "$CTL_ERR"
VERSION=$("$CTL" -V | sed 's/^dnsward-ctl //')
check_match "status line 1: version, uptime, start time, pid = \$DW_PID" \
    "^dnsward $VERSION, up [0-9]+s \(since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\), pid $DW_PID\$" \
    "$(printf '%s\n' "$CTL_OUT" | sed -n 1p)"
check_match "status line 2: generation 1, no reloads yet" \
    '^generation 1 \(in force since [0-9T:-]+Z\), reloads 0 ok, 0 failed, 0 feed refreshes$' \
    "$(printf '%s\n' "$CTL_OUT" | sed -n 2p)"
for f in bad:2:"$FEED":plain good:1:"$GOOD":plain ips:1:"$IPS":ip; do
	IFS=: read -r id n path fmt <<<"$f"
	line=$(printf '%s\n' "$CTL_OUT" | grep "^feed $id: ")
	check_match "status: feed $id: $n entries, 0 errors, $fmt, its path" \
	    "^feed $id: $n entries, 0 errors, $fmt, $path, sha256 [0-9a-f]{64}, loaded [0-9T:-]+Z \([0-9]+\.[0-9]{3} s\)\$" \
	    "$line"
	check_eq "status: feed $id: sha256 = sha256sum of the file" \
	    "$(sha256sum "$path" | cut -d' ' -f1)" \
	    "$(printf '%s\n' "$line" | sed -n 's/.*, sha256 \([0-9a-f]*\),.*/\1/p')"
done
check_eq "status: one line per feed" 3 \
    "$(printf '%s\n' "$CTL_OUT" | grep -c '^feed ')"
check_eq "status: one line per upstream" 2 \
    "$(printf '%s\n' "$CTL_OUT" | grep -c '^upstream ')"
check_eq "status: before any query, NSD up, no srtt, 0 queries" \
    "upstream 127.0.0.1:$NSD_PORT: up, srtt -, 0 queries, 0 answers, 0 timeouts, 0 failures" \
    "$(printf '%s\n' "$CTL_OUT" | grep "^upstream 127.0.0.1:$NSD_PORT:")"
check_match "status: the cache line (default size)" \
    '^cache: 0 entries, 0 of [1-9][0-9]* bytes, 0 hits, 0 misses, 0 stale, 0 evicted$' \
    "$CTL_OUT"
check_eq "status: decision log line, nothing written yet" \
    "decision log: 0 written, 0 dropped" \
    "$(printf '%s\n' "$CTL_OUT" | grep '^decision log')"
check_eq "status: 9 lines (daemon, generation, 3 feeds, 2 upstreams, cache, log)" \
    9 "$(printf '%s\n' "$CTL_OUT" | wc -l)"

# N names that miss the cache: the NSD upstream's counters move by N.
N=6
for i in $(seq 1 $N); do
	dw_dig "s$i.miss.test" A >/dev/null
done
ctl status
ups=$(printf '%s\n' "$CTL_OUT" | grep "^upstream 127.0.0.1:$NSD_PORT:")
check_match "status after $N queries: NSD up with an srtt in ms" \
    "^upstream 127.0.0.1:$NSD_PORT: up, srtt [0-9]+\.[0-9] ms, " "$ups"
check_ge "status after $N cache misses: NSD queries grew by >= $N" \
    "$(up_field "$ups" queries)" "$N"
check_ge "status after $N cache misses: NSD answers grew by >= $N" \
    "$(up_field "$ups" answers)" "$N"
q0=$(up_field "$ups" queries)
for i in $(seq 1 $N); do
	dw_dig +tcp "t$i.miss.test" A >/dev/null
done
ctl status
ups=$(printf '%s\n' "$CTL_OUT" | grep "^upstream 127.0.0.1:$NSD_PORT:")
check_ge "status: $N more cache misses over TCP: NSD queries grew by >= $N" \
    "$(up_field "$ups" queries)" $((q0 + N))
check_eq "status: the dead second upstream never asked" \
    "upstream 127.0.0.1:$DEAD: up, srtt -, 0 queries, 0 answers, 0 timeouts, 0 failures" \
    "$(printf '%s\n' "$CTL_OUT" | grep "^upstream 127.0.0.1:$DEAD:")"
check_match "status: the cache holds the $((2 * N)) answers, $((2 * N)) misses" \
    "^cache: $((2 * N)) entries, [1-9][0-9]* of [0-9]+ bytes, 0 hits, $((2 * N)) misses," \
    "$CTL_OUT"
wait_log "$(sent_total)" >/dev/null
ctl status
check_eq "status: decision log written = queries sent" \
    "decision log: $(sent_total) written, 0 dropped" \
    "$(printf '%s\n' "$CTL_OUT" | grep '^decision log')"
check_eq "status: still one line per upstream after traffic" 2 \
    "$(printf '%s\n' "$CTL_OUT" | grep -c '^upstream ')"

# --- stats ------------------------------------------------------------------

ctl stats
check_eq "stats: exit 0" 0 "$CTL_ST"
check_eq "stats: valid JSON" valid "$(printf '%s\n' "$CTL_OUT" |
    "$PYTHON" -c 'import json,sys; json.load(sys.stdin); print("valid")' 2>&1)"
check_eq "stats: one line" 1 "$(printf '%s\n' "$CTL_OUT" | wc -l)"
check_eq "stats: generation 1" 1 "$(jget "$CTL_OUT" generation)"
check_eq "stats: workers 2" 2 "$(jget "$CTL_OUT" workers)"
check_eq "stats: version" "$VERSION" "$(jget "$CTL_OUT" version)"
check_eq "stats: queries.udp = UDP queries sent" "$(sent_of udp)" \
    "$(jget "$CTL_OUT" queries.udp)"
check_eq "stats: queries.tcp = TCP queries sent" "$(sent_of tcp)" \
    "$(jget "$CTL_OUT" queries.tcp)"
check_eq "stats: upstreams[0] is NSD" "127.0.0.1:$NSD_PORT" \
    "$(jget "$CTL_OUT" upstreams.0.name)"
check_eq "stats: upstreams[1] (dead) 0 queries" 0 \
    "$(jget "$CTL_OUT" upstreams.1.queries)"
check_eq "stats: feeds[0] sha256 = the file's" \
    "$(sha256sum "$FEED" | cut -d' ' -f1)" "$(jget "$CTL_OUT" feeds.0.sha256)"
check_eq "stats: decision_log.written = sent" "$(sent_total)" \
    "$(jget "$CTL_OUT" decision_log.written)"

# Queries by transport: k UDP and j TCP, exact deltas.
u0=$(jget "$CTL_OUT" queries.udp)
t0=$(jget "$CTL_OUT" queries.tcp)
for i in 1 2 3; do
	dw_dig "u$i.miss.test" A >/dev/null
done
for i in 1 2; do
	dw_dig +tcp "v$i.miss.test" A >/dev/null
done
check_eq "stats: 3 UDP queries: queries.udp +3" $((u0 + 3)) \
    "$(stat_until queries.udp $((u0 + 3)))"
check_eq "stats: 2 TCP queries: queries.tcp +2" $((t0 + 2)) \
    "$(stat_until queries.tcp $((t0 + 2)))"

# A blocked query: decisions.block.feed and rcodes.NXDOMAIN, +1 each.
ctl stats
b0=$(jget "$CTL_OUT" decisions.block.feed)
nx0=$(jget "$CTL_OUT" rcodes.NXDOMAIN)
check_eq "blocked query: NXDOMAIN" NXDOMAIN \
    "$(dw_dig x.evil.test A | dig_status)"
check_eq "stats: a blocked query: decisions.block.feed +1" $((b0 + 1)) \
    "$(stat_until decisions.block.feed $((b0 + 1)))"
check_eq "stats: a blocked query: rcodes.NXDOMAIN +1" $((nx0 + 1)) \
    "$(stat_until rcodes.NXDOMAIN $((nx0 + 1)))"
ctl stats
r0=$(jget "$CTL_OUT" decisions.allow.feed)
dw_dig good.evil.test A >/dev/null
check_eq "stats: a query allowed by a feed rule: decisions.allow.feed +1" \
    $((r0 + 1)) "$(stat_until decisions.allow.feed $((r0 + 1)))"

# AAAA queries, then a repeat from the cache.
ctl stats
a0=$(jget "$CTL_OUT" qtypes.AAAA)
dw_dig host.test AAAA >/dev/null
dw_dig +tcp mail.test AAAA >/dev/null
check_eq "stats: 2 AAAA queries: qtypes.AAAA +2" $((a0 + 2)) \
    "$(stat_until qtypes.AAAA $((a0 + 2)))"
ctl stats
h0=$(jget "$CTL_OUT" cache.hits)
m0=$(jget "$CTL_OUT" cache.misses)
dw_dig host.test AAAA >/dev/null
check_eq "stats: a repeated query: cache.hits +1" $((h0 + 1)) \
    "$(stat_until cache.hits $((h0 + 1)))"
ctl stats
check_eq "stats: a repeated query: cache.misses unchanged" "$m0" \
    "$(jget "$CTL_OUT" cache.misses)"
ctl stats extra
check_eq "stats with an argument: usage error, exit 2" "2 usage: dnsward-ctl stats" \
    "$CTL_ST $CTL_ERR"

# --- flush ------------------------------------------------------------------

for n in sub.test a.sub.test b.sub.test other.test; do
	dw_dig "$n" A >/dev/null
done
dw_dig sub.test A >/dev/null
wait_log "$(sent_total)" >/dev/null
check_eq "flush set-up: sub.test again is a cache hit" "sub.test.	hit" \
    "$(log_rows query_name cache | tail -n 1)"
ctl flush sub.test
check_eq "flush sub.test: exit 0" 0 "$CTL_ST"
check_eq "flush sub.test: the name and the 2 below it removed" \
    "flushed sub.test and below: 3 entries removed" "$CTL_OUT"
for n in sub.test a.sub.test b.sub.test other.test; do
	dw_dig "$n" A >/dev/null
done
wait_log "$(sent_total)" >/dev/null
check_eq "after flush sub.test: sub, a.sub, b.sub miss; other.test still a hit" \
    "sub.test.:miss a.sub.test.:miss b.sub.test.:miss other.test.:hit" \
    "$(log_rows query_name cache | tail -n 4 | tr '\t' : | tr '\n' ' ' |
    sed 's/ $//')"
ctl flush Other.TEST.
check_eq "flush Other.TEST. (case, trailing dot): 1 entry removed" \
    "0 flushed Other.TEST. and below: 1 entry removed" "$CTL_ST $CTL_OUT"
ctl flush nothing-here.test
check_eq "flush of a name not cached: 0 removed, exit 0" \
    "0 flushed nothing-here.test and below: 0 entries removed" \
    "$CTL_ST $CTL_OUT"
ctl flush 'a..b'
check_eq "flush of a bad name: exit 1, says why on stderr" \
    "1 flush: 'a..b' is not a domain name" "$CTL_ST $CTL_ERR"
check_eq "flush of a bad name: nothing on stdout" "" "$CTL_OUT"
ctl status
ncache=$(printf '%s\n' "$CTL_OUT" | sed -n 's/^cache: \([0-9]*\) entries.*/\1/p')
ctl flush
check_eq "flush (everything): exit 0" 0 "$CTL_ST"
check_match "flush (everything): N entries removed, N > 0" \
    '^flushed the cache: [1-9][0-9]* entries removed$' "$CTL_OUT"
check_eq "flush (everything): N = the entries status counted" "$ncache" \
    "$(printf '%s\n' "$CTL_OUT" | sed -n 's/.*: \([0-9]*\) entries removed/\1/p')"
ctl status
check_match "status after flush: cache empty, 0 bytes" \
    '^cache: 0 entries, 0 of [0-9]+ bytes, ' "$CTL_OUT"
dw_dig other.test A >/dev/null
dw_dig +tcp host.test AAAA >/dev/null
wait_log "$(sent_total)" >/dev/null
check_eq "after flush: other.test and host.test AAAA miss again" \
    "other.test.:miss host.test.:miss" \
    "$(log_rows query_name cache | tail -n 2 | tr '\t' : | tr '\n' ' ' |
    sed 's/ $//')"
ctl flush a.test b.test
check_eq "flush with two names: usage error, exit 2" \
    "2 usage: dnsward-ctl flush [name]" "$CTL_ST $CTL_ERR"
check_match "daemon log: the flushes logged" \
    'control: cache flushed for sub.test and below, 3 entries removed' \
    "$(cat "$DW_DIR/stderr")"

# --- explain ----------------------------------------------------------------

ctl status
wr0=$(printf '%s\n' "$CTL_OUT" | sed -n 's/^decision log: \([0-9]*\) written.*/\1/p')
ctl explain x.evil.test
check_eq "explain x.evil.test: exit 0" 0 "$CTL_ST"
check_eq "explain: first line is the policy generation" "policy generation 1" \
    "$(printf '%s\n' "$CTL_OUT" | sed -n 1p)"
check_eq "explain: the query, type A and client 127.0.0.1 by default" \
    "query x.evil.test. A from 127.0.0.1" \
    "$(printf '%s\n' "$CTL_OUT" | sed -n 2p)"
check_match "explain blocked: the allow rule evaluated, not listed" \
    "rule allow-good \(priority 5, allow\):.*feed good: not listed.*=> no match" \
    "$(printf '%s\n' "$CTL_OUT" | tr '\n' ' ')"
check_match "explain blocked: the matching rule, the feed entry, MATCH" \
    "rule block-bad \(priority 10, block\):.*feed bad: entry evil\.test\. \($FEED\).*=> MATCH" \
    "$(printf '%s\n' "$CTL_OUT" | tr '\n' ' ')"
check_eq "explain blocked: verdict BLOCK with the rule, group and feed" \
    "verdict: BLOCK, answer nxdomain: blocked by rule 'block-bad' in group 'g' (feed 'bad')" \
    "$(printf '%s\n' "$CTL_OUT" | grep '^verdict')"
ctl explain sub.evil.test AAAA --client 10.1.2.3
check_eq "explain NAME AAAA --client: the query line" \
    "query sub.evil.test. AAAA from 10.1.2.3" \
    "$(printf '%s\n' "$CTL_OUT" | sed -n 2p)"
check_match "explain NAME AAAA --client: verdict BLOCK" "^verdict: BLOCK," \
    "$CTL_OUT"
ctl explain good.evil.test
check_eq "explain allowed by rule: verdict ALLOW by the rule" \
    "0 verdict: ALLOW by rule 'allow-good' in group 'g'" \
    "$CTL_ST $(printf '%s\n' "$CTL_OUT" | grep '^verdict')"
ctl explain host.test mx
check_eq "explain host.test mx (type in lower case): verdict ALLOW (default)" \
    "0 query host.test. mx from 127.0.0.1 verdict: ALLOW (default)" \
    "$CTL_ST $(printf '%s\n' "$CTL_OUT" | grep -E '^(query|verdict)' | tr '\n' ' ' | sed 's/ $//')"
check_match "explain without --answer: says answer rules need --answer" \
    'give them with --answer IP' "$CTL_OUT"
ctl explain rebind.test --answer 198.51.100.7
check_match "explain --answer in the blocked network: answer rules, BLOCK" \
    "answer with 1 address:.*rule block-ips.*verdict: BLOCK, answer nxdomain: .*block-ips" \
    "$(printf '%s\n' "$CTL_OUT" | tr '\n' ' ')"
ctl explain rebind.test A --client ::1 --answer 192.0.2.1 --answer 2001:db8::1
check_eq "explain --answer elsewhere (two addresses, IPv6 client): ALLOW" \
    "0 query rebind.test. A from ::1|verdict: ALLOW (default)|answer with 2 addresses:|verdict: ALLOW (default)|" \
    "$CTL_ST $(printf '%s\n' "$CTL_OUT" | grep -E '^(query|answer with|verdict)' |
    tr '\n' '|')"
wait_log "$(sent_total)" >/dev/null
ctl status
check_eq "explain logs nothing: decision log count unchanged" \
    "decision log: $wr0 written, 0 dropped" \
    "$(printf '%s\n' "$CTL_OUT" | grep '^decision log')"

# Errors: exit 1, the message on stderr, nothing on stdout.
explain_err() {
	local desc=$1 re=$2
	shift 2
	ctl explain "$@"
	check_eq "explain $desc: exit 1, stdout empty" "1 ''" "$CTL_ST '$CTL_OUT'"
	check_match "explain $desc: says why" "$re" \
	    "$(printf '%s\n' "$CTL_ERR" | tr '\n' ' ')"
}
explain_err "a bad name" "explain: 'a\.\.b' is not a domain name" 'a..b'
explain_err "a name over 255 bytes" "is not a domain name" \
    "$(printf 'abcdefghi.%.0s' $(seq 1 26))test"
explain_err "an unknown type" "explain: unknown type 'BOGUS'" host.test BOGUS
explain_err "an unknown option" \
    "explain: unknown option '--bogus'.*usage: explain NAME \[TYPE\]" \
    host.test --bogus
explain_err "a bad --client" "--client: bad address 'not-an-ip'" \
    host.test --client not-an-ip
explain_err "a bad --answer" "--answer: bad address '300.1.1.1'" \
    host.test --answer 300.1.1.1
explain_err "a third word" "usage: explain NAME" host.test A extra
ctl explain
check_eq "explain without a name: usage error, exit 2 (client)" 2 "$CTL_ST"

# The live policy: a reload that changes the feed changes the answer.
printf 'ads.test\nhost.test\n' >"$FEED.tmp"
mv "$FEED.tmp" "$FEED"
ctl reload
check_eq "reload with a changed feed: exit 0" 0 "$CTL_ST"
ctl explain host.test
check_eq "explain after reload: policy generation 2" "policy generation 2" \
    "$(printf '%s\n' "$CTL_OUT" | sed -n 1p)"
check_eq "explain after reload: host.test now BLOCK" \
    "verdict: BLOCK, answer nxdomain: blocked by rule 'block-bad' in group 'g' (feed 'bad')" \
    "$(printf '%s\n' "$CTL_OUT" | grep '^verdict')"
ctl explain x.evil.test
check_eq "explain after reload: x.evil.test (no longer listed) ALLOW" \
    "verdict: ALLOW (default)" "$(printf '%s\n' "$CTL_OUT" | grep '^verdict')"
check_eq "after reload: host.test answered NXDOMAIN (the live policy)" \
    NXDOMAIN "$(dw_dig host.test A | dig_status)"
ctl status
check_match "status after reload: generation 2, 1 reload ok" \
    '^generation 2 \(in force since [0-9T:-]+Z\), reloads 1 ok, 0 failed' \
    "$CTL_OUT"
line=$(printf '%s\n' "$CTL_OUT" | grep '^feed bad: ')
check_match "status after reload: feed bad now 2 entries" \
    '^feed bad: 2 entries, ' "$line"
check_eq "status after reload: feed bad's sha256 = the new file's" \
    "$(sha256sum "$FEED" | cut -d' ' -f1)" \
    "$(printf '%s\n' "$line" | sed -n 's/.*, sha256 \([0-9a-f]*\),.*/\1/p')"
ctl stats
check_eq "stats after reload: generation 2" 2 "$(jget "$CTL_OUT" generation)"

# --- 16 clients at most; the read timeout ---------------------------------

# 16 idle connections held: the 17th is refused at once.
rm -f "$WORK/held" "$WORK/release"
"$PYTHON" "$PY" hold "$SOCK" 16 "$WORK/held" "$WORK/release" \
    >"$WORK/hold.out" 2>&1 &
HOLD_PID=$!
track "$HOLD_PID"
n=0
while [ ! -s "$WORK/held" ] && [ "$n" -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
check_eq "16 idle control connections held" 16 "$(cat "$WORK/held" 2>&1)"
t0=$(now_ms)
out=$(raw 'b"status\n"')
t1=$(now_ms)
check_eq "the 17th connection: error, too many control connections" \
    "error|too many control connections at once; try again|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
check_le "the 17th connection: refused at once (ms)" $((t1 - t0)) 2000
ctl status
check_eq "dnsward-ctl while 16 are held: exit 1, says so" \
    "1 too many control connections at once; try again" "$CTL_ST $CTL_ERR"
check_eq "DNS served while the control socket is full" NOERROR \
    "$(dw_dig +tcp other.test A | dig_status)"
: >"$WORK/release"
wait_exit "$HOLD_PID" 100
check_eq "the holder closed its connections" 0 "$WAIT_ST"
n=0
while [ "$n" -lt 30 ]; do
	ctl status
	[ "$CTL_ST" = 0 ] && break
	sleep 0.1
	n=$((n + 1))
done
check_eq "after the 16 closed: status answered again" 0 "$CTL_ST"
check_match "daemon log: the refusal logged" \
    'control: more than 16 clients at once, one refused' \
    "$(cat "$DW_DIR/stderr")"

# An incomplete line is answered after 10 s (checked at the end; runs
# meanwhile).
"$PYTHON" "$PY" idle "$SOCK" "stat" "$WORK/idle.out" >/dev/null 2>&1 &
IDLE_PID=$!
track "$IDLE_PID"

# --- the client: errors and options -----------------------------------------

"$CTL" >/dev/null 2>"$WORK/e"
st=$?
check_eq "no command: exit 2" 2 "$st"
check_match "no command: the usage lists the commands" \
    'commands:.*reload.*status.*stats.*flush.*explain' "$(tr '\n' ' ' <"$WORK/e")"
ctl bogus
check_eq "unknown command (caught by dnsward-ctl): exit 2, stdout empty" \
    "2 ''" "$CTL_ST '$CTL_OUT'"
check_match "unknown command (caught by dnsward-ctl): names it" \
    "unknown command 'bogus'" "$CTL_ERR"
ctl status now
check_eq "status with an argument: usage error, exit 2" \
    "2 usage: dnsward-ctl status" "$CTL_ST $CTL_ERR"
out=$("$CTL" -t abc -s "$SOCK" status 2>&1)
check_eq "-t abc: exit 2" 2 "$?"
check_match "-t abc: says what -t takes" '-t: seconds' "$out"

out=$("$CTL" -s "$WORK/nowhere/control.sock" status 2>&1)
check_eq "no daemon (no socket file): exit 2" 2 "$?"
check_match "no daemon: cannot connect ... (is dnsward running?" \
    "^dnsward-ctl: cannot connect to $WORK/nowhere/control.sock: No such file or directory \(is dnsward running\?" \
    "$out"

out=$("$CTL" -c "$DW_CONF" status 2>&1)
check_eq "-c CONFIG status: exit 0" 0 "$?"
check_match "-c CONFIG status: the socket from the configuration" \
    ", pid $DW_PID\$" "$(printf '%s\n' "$out" | sed -n 1p)"
out=$("$CTL" -s "$WORK/nowhere/control.sock" -c "$DW_CONF" status 2>&1)
check_eq "-s wins over -c: exit 2, the -s path" \
    "2 $WORK/nowhere/control.sock" \
    "$? $(printf '%s\n' "$out" | sed -n 's/.*cannot connect to \([^:]*\):.*/\1/p')"
# With -c, a file that is broken, turns the socket off, or names a socket
# nobody listens on: said, then the default socket is tried (the running
# daemon may listen where the file it started with said).  What answers
# there is not ours: only the messages are checked.
printf 'server:\n  threads: many\n' >"$WORK/broken.yaml"
out=$("$CTL" -t 5 -c "$WORK/broken.yaml" status 2>&1 >/dev/null)
check_match "-c with an invalid configuration: FILE:LINE:COL: message" \
    "^$WORK/broken\.yaml:2:[0-9]+: server\.threads: " "$out"
check_match "-c with an invalid configuration: then the default socket tried" \
    "^dnsward-ctl: $WORK/broken\.yaml: invalid configuration; trying the default control socket /run/dnsward/control\.sock\$" \
    "$out"
printf 'control: { socket: off }\n' >"$WORK/off.yaml"
out=$("$CTL" -t 5 -c "$WORK/off.yaml" status 2>&1 >/dev/null)
check_match "-c with control.socket off: says so, the default socket tried" \
    "^dnsward-ctl: $WORK/off\.yaml: control\.socket is off; trying the default control socket /run/dnsward/control\.sock\$" \
    "$out"
printf 'control: { socket: %s }\n' "$WORK/nowhere.sock" >"$WORK/nowhere.yaml"
out=$("$CTL" -t 5 -c "$WORK/nowhere.yaml" status 2>&1 >/dev/null)
check_match "-c naming a socket nobody listens on: says so, the default tried" \
    "^dnsward-ctl: nothing listens on $WORK/nowhere\.sock; trying /run/dnsward/control\.sock\$" \
    "$out"

# Permission denied: user nobody, not in the socket's group (root).
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	skip "permission denied as user nobody (needs root and setpriv)"
elif setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$DW_CONF"
then
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$CTL" -s "$SOCK" status 2>&1)
	check_eq "as nobody (not in the group): exit 2" 2 "$?"
	check_eq "as nobody: Permission denied, mode and group named" \
	    "dnsward-ctl: cannot connect to $SOCK: Permission denied (the socket is mode 0660, group root: run as root or as a member of root)" \
	    "$out"
	out=$(setpriv --reuid=nobody --regid=0 --clear-groups \
	    "$CTL" -s "$SOCK" status 2>&1)
	check_match "as nobody in the socket's group: answered" \
	    "^dnsward .*, pid $DW_PID\$" "$(printf '%s\n' "$out" | sed -n 1p)"
else
	fail "user nobody reaches $WORK" "readable" "not"
fi

# Servers that are not dnsward.
# fake MODE: start the fake server on $WORK/fake.sock (bounded wait).
fake() {
	local n=0
	rm -f "$WORK/fake.sock"
	"$PYTHON" "$PY" fake "$WORK/fake.sock" "$1" >/dev/null 2>&1 &
	FAKE_PID=$!
	track "$FAKE_PID"
	while [ ! -S "$WORK/fake.sock" ] && [ "$n" -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
}
fake silent
t0=$(now_ms)
out=$("$CTL" -t 1 -s "$WORK/fake.sock" status 2>&1)
st=$?
t1=$(now_ms)
check_eq "a server that never answers, -t 1: exit 2, says so" \
    "2 dnsward-ctl: no answer from the daemon within 1 s (-t to wait longer)" \
    "$st $out"
check_le "-t 1: gave up within 2.5 s (ms)" $((t1 - t0)) 2500
wait_exit "$FAKE_PID" 50
fake garbage
out=$("$CTL" -s "$WORK/fake.sock" status 2>&1)
check_match "a server that answers garbage: exit 2, not dnsward" \
    '^2 dnsward-ctl: unexpected answer .*is this dnsward' "$? $out"
wait_exit "$FAKE_PID" 50
fake close
out=$("$CTL" -s "$WORK/fake.sock" status 2>&1)
check_eq "a server that closes: exit 2, says so" \
    "2 dnsward-ctl: the daemon closed the connection without an answer" \
    "$? $out"
wait_exit "$FAKE_PID" 50

# --- the raw protocol -------------------------------------------------------

out=$(raw 'b"status\n"')
check_eq "raw status: first line ok" ok "$(printf '%s\n' "$out" | sed -n 1p)"
check_match "raw status: then the status body" "^dnsward .*, pid $DW_PID\$" \
    "$(printf '%s\n' "$out" | sed -n 2p)"
out=$(raw 'b"status\n"' shut)
check_match "raw status, then shutdown of the writing side (socat, nc -N): answered" \
    "^ok dnsward " "$(printf '%s\n' "$out" | head -n 2 | tr '\n' ' ')"
out=$(raw 'b"status\r\nflush\n"')
check_match "raw: CR before the newline ignored, bytes after the line ignored" \
    "^ok dnsward " "$(printf '%s\n' "$out" | head -n 2 | tr '\n' ' ')"
out=$(raw 'b"  explain\tevil.test \t A\n"')
check_match "raw: words split on spaces and tabs" "^ok policy generation 2 query evil\.test\. A from" \
    "$(printf '%s\n' "$out" | head -n 3 | tr '\n' ' ')"
out=$(raw 'b"bogus arg\n"')
check_eq "raw unknown command: error, listing the commands" \
    "error|unknown command 'bogus'; commands: reload, status, stats, flush, explain|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"x" * 2000')
check_eq "raw 2000 bytes without a newline: error, line too long" \
    "error|request line too long (at most 1024 bytes with the newline)|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"explain " + b"a" * 1015 + b"\n"')
check_match "raw 1024 bytes with the newline: accepted (the name refused)" \
    "^error\|policy generation 2\|explain: 'a{1015}' is not a domain name\|\$" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"explain " + b"a" * 1016 + b"\n"')
check_eq "raw 1025 bytes with the newline: line too long" \
    "error|request line too long (at most 1024 bytes with the newline)|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"sta\x01tus\n"')
check_eq "raw: a control byte: error, which and where" \
    "error|non-printable byte 0x01 at offset 3 of the request|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"status\xc3\xa9\n"')
check_eq "raw: a non-ASCII byte: error" \
    "error|non-printable byte 0xc3 at offset 6 of the request|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"status\x00\n"')
check_eq "raw: a NUL byte: error" \
    "error|non-printable byte 0x00 at offset 6 of the request|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"\n"')
check_eq "raw: an empty request: error" "error|empty request|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b" \t \n"')
check_eq "raw: only blanks: empty request" "error|empty request|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"explain" + b" a" * 40 + b"\n"')
check_eq "raw: 41 words: error, too many words" \
    "error|too many words in the request (at most 40)|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b"status"' shut)
check_eq "raw: no newline, then shutdown: error, not terminated" \
    "error|request line not terminated by a newline|" \
    "$(printf '%s\n' "$out" | tr '\n' '|')"
out=$(raw 'b""' shut)
check_eq "raw: connect and shut down at once: closed, no answer" "" "$out"

# --- a second daemon on the same socket ---------------------------------------

pick_port P2 || bail "no free port for the second dnsward"
mkdir -p "$WORK/second"
DW_NAME=second DW_CTL=$SOCK write_conf "$WORK/second/dnsward.yaml" "$P2" 1 \
    "127.0.0.1:$NSD_PORT"
ino0=$(stat -c %i "$SOCK")
"$DNSWARD" -c "$WORK/second/dnsward.yaml" >"$WORK/second/stdout" \
    2>"$WORK/second/stderr" &
P=$!
track "$P"
wait_exit "$P" 100
if [ "$WAIT_ST" = running ]; then
	kill -TERM "$P" 2>/dev/null
	wait_exit "$P" 50
	fail "second dnsward on the same socket: exits" "exit 1" "still running"
else
	check_eq "second dnsward on the same socket: exit 1" 1 "$WAIT_ST"
fi
check_match "second dnsward: in use by a running dnsward" \
    "control\.socket $SOCK: in use by a running dnsward" \
    "$(cat "$WORK/second/stderr")"
check_eq "second dnsward: the first one's socket left alone (same inode)" \
    "$ino0" "$(stat -c %i "$SOCK" 2>&1)"
check_eq "second dnsward: the first still serves DNS" NOERROR \
    "$(dw_dig ns.test A | dig_status)"
ctl status
check_match "second dnsward: the first still answers status" \
    "^dnsward .*, pid $DW_PID\$" "$(printf '%s\n' "$CTL_OUT" | sed -n 1p)"

# Something at the path that is not a socket is never touched.
printf 'precious\n' >"$WORK/notasock"
DW_NAME=second DW_CTL=$WORK/notasock write_conf \
    "$WORK/second/dnsward.yaml" "$P2" 1 "127.0.0.1:$NSD_PORT"
"$DNSWARD" -c "$WORK/second/dnsward.yaml" >"$WORK/second/stdout" \
    2>"$WORK/second/stderr" &
P=$!
track "$P"
wait_exit "$P" 100
[ "$WAIT_ST" = running ] && { kill -TERM "$P"; wait_exit "$P" 50; }
check_eq "control.socket on a regular file: exit 1, the file kept" \
    "1 precious" "$WAIT_ST $(cat "$WORK/notasock")"
check_match "control.socket on a regular file: says so" \
    "control\.socket $WORK/notasock: exists and is not a socket; not touching it" \
    "$(cat "$WORK/second/stderr")"

# --- the cache off; a stale socket ------------------------------------------

STALE=$WORK/stale.sock
DW_CTL=$STALE DW_CACHE="{ size: off }" start_dnsward nocache 1 \
    "127.0.0.1:$NSD_PORT"
SOCK=$STALE
check_eq "cache off: a query answered" NOERROR \
    "$(dw_dig other.test A | dig_status)"
ctl flush
check_eq "cache off: flush: exit 1, says the cache is off" \
    "1 the cache is off (cache.size: off)" "$CTL_ST $CTL_ERR"
ctl flush host.test
check_eq "cache off: flush NAME: exit 1, says the cache is off" \
    "1 the cache is off (cache.size: off)" "$CTL_ST $CTL_ERR"
ctl status
check_eq "cache off: status says cache: off" "cache: off" \
    "$(printf '%s\n' "$CTL_OUT" | grep '^cache')"
ctl stats
check_eq "cache off: stats has \"cache\": null" null "$(jget "$CTL_OUT" cache)"
# Killed: the socket file stays behind, nobody listens on it.
kill -KILL "$DW_PID"
wait_exit "$DW_PID" 50
check_eq "SIGKILL: the socket file stays behind" yes \
    "$([ -S "$STALE" ] && echo yes || echo no)"
out=$("$CTL" -s "$STALE" status 2>&1)
check_match "stale socket: exit 2, Connection refused (is dnsward running?" \
    "^2 dnsward-ctl: cannot connect to $STALE: Connection refused \(is dnsward running\?" \
    "$? $out"
DW_CTL=$STALE start_dnsward restarted 1 "127.0.0.1:$NSD_PORT"
ctl status
check_match "a new daemon replaces the stale socket and answers" \
    "^dnsward .*, pid $DW_PID\$" "$(printf '%s\n' "$CTL_OUT" | sed -n 1p)"
check_eq "restarted: serves DNS" NOERROR "$(dw_dig other.test A | dig_status)"
# Stopped with control clients connected: it does not wait for them.
rm -f "$WORK/held" "$WORK/release"
"$PYTHON" "$PY" hold "$STALE" 2 "$WORK/held" "$WORK/release" \
    >"$WORK/hold.out" 2>&1 &
HOLD_PID=$!
track "$HOLD_PID"
n=0
while [ ! -s "$WORK/held" ] && [ "$n" -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
check_eq "restarted: 2 idle control clients connected" 2 \
    "$(cat "$WORK/held" 2>&1)"
t0=$(now_ms)
stop_dnsward TERM
check_le "SIGTERM with 2 idle control clients: stopped within 3 s (ms)" \
    $(($(now_ms) - t0)) 3000
: >"$WORK/release"
wait_exit "$HOLD_PID" 100
check_eq "restarted, after SIGTERM: the socket file is gone" gone \
    "$([ -e "$STALE" ] && echo present || echo gone)"
check_log

# --- the read timeout, then the end -----------------------------------------

use_dnsward ctl
SOCK=$DW_DIR/control.sock
wait_exit "$IDLE_PID" 150
check_eq "an incomplete line: the client got its answer" 0 "$WAIT_ST"
check_match "an incomplete line: error after 10 s, no request line" \
    "^error\|no request line within 10 s\|seconds=(9|10|11)\|\$" \
    "$(tr '\n' '|' <"$WORK/idle.out" 2>&1)"

check_eq "at the end: DNS over UDP still answered" NOERROR \
    "$(dw_dig other.test A | dig_status)"
check_eq "at the end: DNS over TCP still answered" NOERROR \
    "$(dw_dig +tcp sub.test A | dig_status)"
ctl status
check_match "at the end: status answered, same pid" \
    "^0 dnsward .*, pid $DW_PID\$" "$CTL_ST $(printf '%s\n' "$CTL_OUT" | sed -n 1p)"
wait_log "$(sent_total)" >/dev/null
ctl status
check_eq "at the end: decision log written = queries sent" \
    "decision log: $(sent_total) written, 0 dropped" \
    "$(printf '%s\n' "$CTL_OUT" | grep '^decision log')"

stop_dnsward TERM
check_eq "after SIGTERM: the control socket file is gone" gone \
    "$([ -e "$SOCK" ] && echo present || echo gone)"
check_log

summary
