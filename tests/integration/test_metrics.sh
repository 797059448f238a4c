# test_metrics.sh -- the Prometheus endpoint (metrics.listen): the text
# parses with the official client's parser and follows the naming
# conventions (tests/tools/promcheck.py), and its counters move with the
# traffic sent: queries by transport and type, decisions by action and
# reason, responses by rcode, cache, upstream queries and RTT, feeds,
# reloads (success and failure), decision log records.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_metrics.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig
setup_dwq
PY=/usr/bin/python3
PROMCHECK=$SRCDIR/tests/tools/promcheck.py
CTL=${CTL:-$SRCDIR/src/dnsward-ctl}
if ! "$PY" -c 'import prometheus_client' 2>/dev/null; then
	bail "python3-prometheus-client installed (make check installs it)" \
	    "missing"
fi

# http PORT PATH [METHOD]: "STATUS content-type" then the body, via
# Python's http.client (no curl in the test packages).
http() {
	"$PY" - "$1" "$2" "${3:-GET}" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request(sys.argv[3], sys.argv[2])
r = c.getresponse()
body = r.read().decode("utf-8", "replace")
print(r.status, r.getheader("Content-Type"))
sys.stdout.write(body)
EOF
}

FEED=$WORK/block.txt
printf 'mail.test\nbad1.test\nbad2.test\n' >"$FEED"
pick_port MPORT || bail "a free port for metrics" "none"
DW_EXTRA="$(block_feed_conf "$FEED")
metrics: { listen: \"127.0.0.1:$MPORT\" }"

start_nsd
start_dnsward metrics 2 "127.0.0.1:$NSD_PORT"
SOCK=$DW_DIR/control.sock
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on $DW_PORT, metrics on $MPORT"

check_match "logged: metrics address" \
    "metrics on http://127.0.0.1:$MPORT/metrics" "$(cat "$DW_DIR/stderr")"

# scrape FILE: fetch /metrics into FILE.raw and the checked samples into FILE.
scrape() {
	http "$MPORT" /metrics >"$1.http" || return 1
	sed 1d "$1.http" >"$1.raw"
	"$PY" "$PROMCHECK" <"$1.raw" >"$1" 2>"$1.err"
}

# val FILE SERIES: the value of one series (exact name{labels}), or 0.
val() {
	awk -v s="$2" '{ v = $NF; $NF = ""; sub(/ $/, ""); if ($0 == s) { print v; f = 1 } }
	    END { if (!f) print 0 }' "$1"
}

scrape "$WORK/m0"
check_eq "scrape: promcheck accepts the text" 0 "$?"
check_eq "scrape: no complaint" "" "$(cat "$WORK/m0.err")"
check_eq "GET /metrics: 200 text/plain version 0.0.4" \
    "200 text/plain; version=0.0.4; charset=utf-8" "$(head -1 "$WORK/m0.http")"
check_eq "every sample name starts with dnsward_" 0 \
    "$(grep -c -v '^dnsward_' "$WORK/m0")"
check_eq "policy generation 1" 1 "$(val "$WORK/m0" dnsward_policy_generation)"
check_eq "workers 2" 2 "$(val "$WORK/m0" dnsward_workers)"
check_eq "feed entries" 3 "$(val "$WORK/m0" 'dnsward_feed_entries{feed="bad"}')"
check_eq "build info carries the version" 1 \
    "$(grep -c '^dnsward_build_info{version="[0-9.]*"} 1$' "$WORK/m0")"

# Traffic: 4 UDP A (1 miss, 3 hits), 2 TCP AAAA, 2 blocked (UDP), 1 NXDOMAIN
# from upstream (UDP), 1 REFUSED by class (UDP, CH).
for i in 1 2 3 4; do dw_dig host.test A >/dev/null; done
dw_dig +tcp host.test AAAA >/dev/null
dw_dig +tcp host.test AAAA >/dev/null
dw_dig bad1.test A >/dev/null
dw_dig bad2.test TXT >/dev/null
dw_dig nosuch.test A >/dev/null
dw_q version.bind TXT --class 3 >/dev/null

scrape "$WORK/m1"
check_eq "scrape after traffic: promcheck accepts it" 0 "$?"
d() {
	echo $(($(val "$WORK/m1" "$1") - $(val "$WORK/m0" "$1")))
}
check_eq "queries udp +8" 8 "$(d 'dnsward_queries_total{transport="udp"}')"
check_eq "queries tcp +2" 2 "$(d 'dnsward_queries_total{transport="tcp"}')"
check_eq "qtype A +6" 6 "$(d 'dnsward_queries_by_qtype_total{qtype="A"}')"
check_eq "qtype AAAA +2" 2 "$(d 'dnsward_queries_by_qtype_total{qtype="AAAA"}')"
check_eq "qtype TXT +2" 2 "$(d 'dnsward_queries_by_qtype_total{qtype="TXT"}')"
check_eq "decisions block/feed +2" 2 \
    "$(d 'dnsward_decisions_total{action="block",reason="feed"}')"
check_eq "decisions none/class +1" 1 \
    "$(d 'dnsward_decisions_total{action="none",reason="class"}')"
check_eq "decisions allow/default +7" 7 \
    "$(d 'dnsward_decisions_total{action="allow",reason="default"}')"
check_eq "responses NXDOMAIN +3 (2 blocked, 1 upstream)" 3 \
    "$(d 'dnsward_responses_total{rcode="NXDOMAIN"}')"
check_eq "responses NOERROR +6" 6 "$(d 'dnsward_responses_total{rcode="NOERROR"}')"
check_eq "responses REFUSED +1" 1 "$(d 'dnsward_responses_total{rcode="REFUSED"}')"
check_eq "cache hits +4 (3 A, 1 AAAA)" 4 "$(d dnsward_cache_hits_total)"
check_eq "cache misses +3 (A, AAAA, nosuch)" 3 "$(d dnsward_cache_misses_total)"
check_eq "cache entries 3" 3 "$(val "$WORK/m1" dnsward_cache_entries)"
U="upstream=\"127.0.0.1:$NSD_PORT\""
check_eq "upstream queries +3" 3 "$(d "dnsward_upstream_queries_total{$U}")"
check_eq "upstream answers +3" 3 "$(d "dnsward_upstream_answers_total{$U}")"
check_eq "upstream up" 1 "$(val "$WORK/m1" "dnsward_upstream_up{$U}")"
check_eq "upstream RTT histogram counts the 3 answers" 3 \
    "$(d "dnsward_upstream_rtt_seconds_count{$U}")"
check_eq "upstream RTT +Inf bucket = count" \
    "$(val "$WORK/m1" "dnsward_upstream_rtt_seconds_count{$U}")" \
    "$(val "$WORK/m1" "dnsward_upstream_rtt_seconds_bucket{le=\"+Inf\",$U}")"
check_match "upstream RTT sum is a small positive number of seconds" \
    '^0\.[0-9]+(e-[0-9]+)?$|^[0-9]\.[0-9]+e-[0-9]+$' \
    "$(val "$WORK/m1" "dnsward_upstream_rtt_seconds_sum{$U}")"
wait_log 10 >/dev/null
scrape "$WORK/m1b"
check_eq "decision log records written = 10" 10 \
    "$(val "$WORK/m1b" 'dnsward_decision_log_records_total{result="written"}')"

# Reloads: one good, one bad.
printf 'mail.test\nbad1.test\nbad2.test\nbad3.test\n' >"$FEED"
"$CTL" -s "$SOCK" reload >/dev/null 2>&1
printf 'nonsense: 1\n' >>"$DW_CONF"
"$CTL" -s "$SOCK" reload >/dev/null 2>&1
scrape "$WORK/m2"
check_eq "reloads success 1" 1 \
    "$(val "$WORK/m2" 'dnsward_reloads_total{result="success"}')"
check_eq "reloads failure 1" 1 \
    "$(val "$WORK/m2" 'dnsward_reloads_total{result="failure"}')"
check_eq "generation 2" 2 "$(val "$WORK/m2" dnsward_policy_generation)"
check_eq "feed entries after reload 4" 4 \
    "$(val "$WORK/m2" 'dnsward_feed_entries{feed="bad"}')"
now=$(date +%s)
ts=$(val "$WORK/m2" dnsward_last_reload_timestamp_seconds)
check_le "last reload timestamp within 60 s of now" \
    $((now - ${ts%%.*} < 0 ? ${ts%%.*} - now : now - ${ts%%.*})) 60
ts=$(val "$WORK/m2" 'dnsward_feed_last_load_timestamp_seconds{feed="bad"}')
check_le "feed load timestamp within 60 s of now" \
    $((now - ${ts%%.*} < 0 ? ${ts%%.*} - now : now - ${ts%%.*})) 60

# Other paths and methods.
check_eq "GET /nope: 404" 404 "$(http "$MPORT" /nope | head -1 | cut -d' ' -f1)"
check_eq "POST /metrics: 405" 405 \
    "$(http "$MPORT" /metrics POST | head -1 | cut -d' ' -f1)"
check_eq "GET /: 200" 200 "$(http "$MPORT" / | head -1 | cut -d' ' -f1)"
check_eq "still answering DNS after the scrapes" NOERROR \
    "$(dw_dig host.test A | dig_status)"

# A second daemon on the same metrics port cannot start, and says why.
cat >"$WORK/clash.yaml" <<EOF
server: { listen: ["127.0.0.1:1"], user: root }
resolver: { upstreams: ["127.0.0.1:$NSD_PORT"] }
control: off
log: { decisions: off }
metrics: { listen: "127.0.0.1:$MPORT" }
EOF
out=$(timeout 10 "$DNSWARD" -c "$WORK/clash.yaml" 2>&1)
check_eq "metrics port taken: exit 1" 1 "$?"
check_match "metrics port taken: says so with the address" \
    "metrics.listen 127.0.0.1:$MPORT: .*Address already in use" "$out"

stop_dnsward TERM
check_log

summary
