# test_recurse.sh -- resolver.mode: recurse.  dnsward resolves from the
# root of a complete DNS hierarchy built on loopback by hier.sh (NSD for
# ., dwtest., example.dwtest., insecure., bogus.dwtest.; signed with
# ldns-signzone; the fake root's DS as trust anchor), through libunbound on
# its workers' event loops: referrals and CNAMEs across zones are
# followed, secure answers carry AD for DO/AD clients, a tampered
# signature gives SERVFAIL with EDE 6, an unsigned delegation is answered
# without AD; the same policy applies and the log says "recursion".
#
# The TLD is dwtest, not test: libunbound answers test. itself (RFC 6761
# local zone), as a resolver should.
#
# Run as root: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_recurse.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"
HIER_TLD=dwtest
. "$SRCDIR/tests/integration/hier.sh"

need dig
if ! hier_can_run; then
	skip "recursion through a loopback hierarchy: $HIER_WHY"
	summary
	exit 0
fi
hier_start
note "hierarchy: root $HIER_ROOT, example $HIER_EXAMPLE ($HIER_START_MS ms)"

EX=$HIER_Z_EXAMPLE		# example.dwtest.
FEED=$WORK/block.txt
printf 'blocked.%s\n' "$EX" >"$FEED"
DW_EXTRA=$(block_feed_conf "$FEED")

# start_recursor NAME [validate|off]: dnsward recursing on the hierarchy.
start_recursor() {
	DW_RESOLVER="resolver:
  mode: recurse
  root-hints: $HIER_HINTS
  trust-anchors: [$HIER_TA]
  query-loopback: on
  dnssec: ${2:-validate}" DW_CACHE="{ size: off }" start_dnsward "$1" 1
}

start_recursor rec
check_match "logged: recursing, DNSSEC on" \
    "recursing from the root hints in $HIER_HINTS, DNSSEC validation on" \
    "$(cat "$DW_DIR/stderr")"
check_match "-t: says recursion, validated" \
    'configuration OK: 2 listen addresses, recursion \(DNSSEC validated\)' \
    "$("$DNSWARD" -t -c "$DW_CONF" 2>&1)"
check_eq "status: no forward upstream listed in recurse mode" 0 \
    "$("$SRCDIR/src/dnsward-ctl" -s "$DW_DIR/control.sock" status |
    grep '^upstream ' | grep -c -v '^upstream recursion:')"

for t in udp tcp; do
	opt=
	[ "$t" = tcp ] && opt=+tcp
	out=$(dw_dig $opt +dnssec "www.$EX" A)
	check_eq "$t: www.$EX resolved from the root" "192.0.2.10" \
	    "$(echo "$out" | section ANSWER | awk '$4 == "A" {print $5}')"
	check_match "$t: secure answer, DO client: AD" '(^| )ad( |$)' \
	    "$(echo "$out" | dig_flags)"
	out=$(dw_dig $opt "chain.$EX" A)
	check_eq "$t: CNAME chain across names followed" \
	    "alias.$EX www.$EX 192.0.2.10" \
	    "$(echo "$out" | section ANSWER | awk '{print $5}' | tr '\n' ' ' | sed 's/ $//')"
	check_eq "$t: no DO: no RRSIG in the answer" 0 \
	    "$(echo "$out" | section ANSWER | awk '$4 == "RRSIG"' | wc -l)"
	out=$(dw_dig $opt +dnssec "chain.$EX" A)
	check_eq "$t: DO: RRSIGs for the CNAMEs and the A" 3 \
	    "$(echo "$out" | section ANSWER | awk '$4 == "RRSIG"' | wc -l)"
	out=$(dw_dig $opt +adflag "cross.$EX" A)
	check_eq "$t: secure CNAME into an unsigned zone answered" \
	    "192.0.2.40" \
	    "$(echo "$out" | section ANSWER | awk '$4 == "A" {print $5}')"
	check_nomatch "$t: insecure answer: no AD" '(^| )ad( |$)' \
	    "$(echo "$out" | dig_flags)"
	out=$(dw_dig $opt "www.$HIER_Z_BOGUS" A)
	check_eq "$t: tampered signature: SERVFAIL" SERVFAIL \
	    "$(echo "$out" | dig_status)"
	check_match "$t: tampered signature: EDE 6 (DNSSEC Bogus) with the reason" \
	    'EDE: 6 \(DNSSEC Bogus\).*validation failed' "$(echo "$out" | grep EDE)"
	out=$(dw_dig $opt +cd "www.$HIER_Z_BOGUS" A)
	check_eq "$t: tampered signature, CD=1: the data (the client validates)" \
	    "192.0.2.66" \
	    "$(echo "$out" | section ANSWER | awk '$4 == "A" {print $5}')"
	check_nomatch "$t: tampered signature, CD=1: no AD" '(^| )ad( |$)' \
	    "$(echo "$out" | dig_flags)"
	out=$(dw_dig $opt "www.$HIER_Z_BOGUS" A)
	check_eq "$t: ... and still SERVFAIL without CD afterwards" SERVFAIL \
	    "$(echo "$out" | dig_status)"
	out=$(dw_dig $opt "ok.$HIER_Z_BOGUS" A)
	check_eq "$t: valid record beside the tampered one: answered" \
	    "192.0.2.67" \
	    "$(echo "$out" | section ANSWER | awk '$4 == "A" {print $5}')"
	out=$(dw_dig $opt +dnssec "nosuch.$EX" A)
	check_eq "$t: NXDOMAIN from the signed zone" NXDOMAIN \
	    "$(echo "$out" | dig_status)"
	check_match "$t: signed NXDOMAIN: AD" '(^| )ad( |$)' "$(echo "$out" | dig_flags)"
	out=$(dw_dig $opt +noadflag "www.$EX" A)
	check_nomatch "$t: client without DO/AD: no AD" '(^| )ad( |$)' \
	    "$(echo "$out" | dig_flags)"
	out=$(dw_dig $opt "blocked.$EX" A)
	check_eq "$t: the policy applies in recurse mode: blocked" NXDOMAIN \
	    "$(echo "$out" | dig_status)"
done

st=$("$SRCDIR/src/dnsward-ctl" -s "$DW_DIR/control.sock" status | grep '^upstream ')
check_match "status: recursions counted as upstream 'recursion' with an srtt" \
    '^upstream recursion: up, srtt [0-9.]+ ms, [0-9]+ queries, [0-9]+ answers, 0 timeouts, [0-9]+ failures$' \
    "$st"
check_match "status: the bogus answers counted as failures" \
    ', [1-9][0-9]* failures$' "$st"

printf 'blocked.%s\nwww.%s\n' "$EX" "$EX" >"$FEED"
kill -HUP "$DW_PID"
wait_log 0 >/dev/null
n=0
while [ "$n" -lt 50 ] && ! grep -q 'generation 2 in force' "$DW_DIR/stderr"; do
	sleep 0.1
	n=$((n + 1))
done
out=$(dw_dig "alias.$EX" A)
check_eq "CNAME target on the feed: alias blocked (redirection inspected)" \
    NXDOMAIN "$(echo "$out" | dig_status)"

stop_dnsward TERM
check_log
check_match "log: upstream is recursion" '"upstream":"recursion"' \
    "$(grep "\"query_name\":\"www.$EX\"" "$DW_LOG" | head -1)"
check_match "log: bogus answer logged with reason dnssec-bogus" \
    '"rcode":"SERVFAIL".*"reason":"dnssec-bogus"' \
    "$(grep "\"query_name\":\"www.$HIER_Z_BOGUS\"" "$DW_LOG" | head -1)"

# --- dnssec: off ------------------------------------------------------------

start_recursor noval off
out=$(dw_dig "www.$HIER_Z_BOGUS" A)
check_eq "dnssec off: the tampered record is answered" "192.0.2.66" \
    "$(echo "$out" | section ANSWER | awk '$4 == "A" {print $5}')"
out=$(dw_dig +dnssec "www.$EX" A)
check_nomatch "dnssec off: no AD even for signed data" '(^| )ad( |$)' \
    "$(echo "$out" | dig_flags)"
stop_dnsward TERM
check_log

# --- configuration errors ---------------------------------------------------

cat >"$WORK/bad.yaml" <<EOF
server: { listen: ["127.0.0.1:1"], user: root }
resolver:
  mode: recurse
  root-hints: $WORK/nohints
EOF
out=$("$DNSWARD" -t -c "$WORK/bad.yaml" 2>&1)
check_eq "-t: missing root hints: exit 1" 1 "$?"
check_match "-t: missing root hints: FILE:LINE:COL and the path" \
    "bad.yaml:4:15: resolver.root-hints: $WORK/nohints: No such file" "$out"
cat >"$WORK/bad2.yaml" <<EOF
server: { listen: ["127.0.0.1:1"], user: root }
resolver:
  mode: recurse
  root-hints: $HIER_HINTS
  trust-anchors: [$WORK/nokey, "example. IN TXT x"]
EOF
out=$("$DNSWARD" -t -c "$WORK/bad2.yaml" 2>&1)
check_eq "-t: bad trust anchors: exit 1" 1 "$?"
check_match "-t: an inline anchor that is no DS/DNSKEY: FILE:LINE:COL" \
    "bad2.yaml:5:[0-9]+: resolver.trust-anchors: 'example. IN TXT x' is neither" \
    "$out"

printf 'this is not a zone file\n' >"$WORK/garbage.key"
cat >"$WORK/bad3.yaml" <<EOF
server: { listen: ["127.0.0.1:1"], user: root }
resolver:
  mode: recurse
  root-hints: $HIER_HINTS
  trust-anchors: [$WORK/garbage.key]
EOF
out=$("$DNSWARD" -t -c "$WORK/bad3.yaml" 2>&1)
check_eq "-t: a trust anchor file that is not DS/DNSKEY: exit 1" 1 "$?"
check_match "-t: garbage trust anchor: says libunbound could not load it" \
    "bad3.yaml: resolver: .*could not be loaded" "$out"
cat >"$WORK/bad4.yaml" <<EOF
server: { listen: ["127.0.0.1:1"], user: root }
resolver: { mode: recurse, trust-anchors: [] }
EOF
out=$("$DNSWARD" -t -c "$WORK/bad4.yaml" 2>&1)
check_match "-t: no trust anchor with validation: an error" \
    "bad4.yaml:2:[0-9]+: resolver.trust-anchors: at least one trust anchor" \
    "$out"

# Servers that do not answer: libunbound gives up or the 10 s bound ends
# it, with SERVFAIL and EDE 22, never a hang.
printf '. 3600000 NS dead.root.\ndead.root. 3600000 A 127.53.255.254\n' \
    >"$WORK/dead.hints"
DW_RESOLVER="resolver:
  mode: recurse
  root-hints: $WORK/dead.hints
  query-loopback: on
  dnssec: off" DW_CACHE="{ size: off }" start_dnsward dead 1
t0=$(now_ms)
out=$(dw_dig +time=15 "mail.$EX" A)
t1=$(now_ms)
check_eq "dead root: SERVFAIL" SERVFAIL "$(echo "$out" | dig_status)"
check_match "dead root: EDE 22 (No Reachable Authority)" 'EDE: 22' \
    "$(echo "$out" | dig_ede)"
check_le "dead root: answered within the 10 s bound (+2 s)" \
    $((t1 - t0)) 12000
stop_dnsward TERM
check_log

hier_stop
summary
