# test_cache.sh -- the answer cache, through the daemon with NSD as the
# upstream, over UDP and TCP, with dig and kdig as clients: a miss then a
# hit with the TTL counted down; answers from the cache while the upstream
# is stopped, until their TTL runs out; serve-stale (TTL 30, EDE 3, also
# for NXDOMAIN, and not past its window); negative caching (NXDOMAIN and
# NODATA with the SOA, negative-max-ttl); keys by type, DO and CD; the
# client's name case on hits; min-ttl and max-ttl; TTL 0 not stored; whole
# answers stored whatever the client's size (TC on UDP hits); the memory
# bound and segmented LRU (size: 64k); the policy applied to hits; RD=0
# answers not stored; the cache off; bad cache: settings; the summary line
# at SIGTERM; the "cache" field of the decision log.
#
# Several instances run side by side against one NSD (use_dnsward), so
# that the waits for TTLs to run out overlap; NSD is stopped half-way.
# Every wait is for a TTL measured from when its answer was stored.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_cache.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

# Every try of the upstream times out quickly once NSD is stopped.
DW_TIMEOUT=300ms

SHORT_TTL=8	# short.test: answered from the cache after NSD stops, then not
BRIEF_TTL=2	# brief.test: expired by the time the stale checks run
TINY_TTL=5	# tiny.test: below min-ttl

# SOA TTL 120, MINIMUM 60: negative answers live min(120, 60) = 60 s.
make_zone() {
	cat >"$1" <<EOF
\$ORIGIN test.
\$TTL 300
@	120 IN SOA ns.test. admin.test. 2026112301 3600 600 86400 60
@	IN NS	ns.test.
ns	IN A	127.0.0.1
host	IN A	192.0.2.1
host	IN A	192.0.2.2
host	IN AAAA	2001:db8::1
short	$SHORT_TTL IN A	192.0.2.6
brief	$BRIEF_TTL IN A	192.0.2.7
tiny	$TINY_TTL IN A	192.0.2.5
sep	IN A	192.0.2.10
sep	IN AAAA	2001:db8::10
mixed	IN A	192.0.2.11
case2	IN A	192.0.2.12
nord	IN A	192.0.2.13
evil	IN A	192.0.2.66
t.evil	IN A	192.0.2.68
tracker	IN CNAME t.evil.test.
alias	IN CNAME target.test.
target	IN A	192.0.2.20
zero	0 IN A	192.0.2.9
EOF
	# mid.test ~800 bytes (over 512, under 1232); big.test ~8.4 KB (TCP).
	for i in 1 2 3 4 5; do
		echo "mid	IN TXT	\"$i-$(printf 'm%.0s' $(seq 1 150))\""
	done >>"$1"
	for i in $(seq 1 40); do
		echo "big	IN TXT	\"$i-$(printf 'b%.0s' $(seq 1 200))\""
	done >>"$1"
}

F=$WORK/feeds
mkdir -p "$F"
printf 'evil.test\n' >"$F/malware.txt"
printf 'target.test\n' >"$F/guest.txt"
POLICY="feeds:
  - { id: malware, path: $F/malware.txt, format: plain }
  - { id: guest, path: $F/guest.txt, format: plain }
policy:
  default: allow
  redirection: inspect
  groups:
    - name: guests
      priority: 10
      clients: [\"127.0.0.2/32\"]
      rules:
        - { name: guest-block, priority: 1, match: { feed: guest }, action: block, response: nxdomain }
    - name: baseline
      priority: 100
      rules:
        - { name: malware, priority: 10, match: { feed: malware }, action: block, response: nxdomain }"

# --- helpers -------------------------------------------------------------------

# sec_ttl NAME: the TTL of the first record of a section.
sec_ttl() {
	section "$1" | awk 'NR == 1 { print $2 }'
}

# every_ttl: the distinct TTLs of all records (answer, authority, additional).
every_ttl() {
	local out s
	out=$(cat)
	for s in ANSWER AUTHORITY ADDITIONAL; do
		echo "$out" | section "$s"
	done | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# Lower-cased records of a section without TTLs, sorted.
rrs() {
	section "$1" | answers | tr 'A-Z' 'a-z'
}

# The question name of dig's output, as printed (";WwW.ExAmPlE.").
dig_question() {
	sed -n '/^;; QUESTION SECTION:/{n;p;}' | awk '{ print $1 }'
}

# The decision log is checked after each instance stops (one pass over
# it, rather than a wait for the writer after every query): expect_row
# notes what the line of the query just sent must hold.
LOG_COLS="cache upstream firewall_rule_action matched_name rcode reason"

# expect_row DESC "FIELD..." "VALUE...": the current instance's line for
# the last message sent holds these values ("-": the field is absent or
# null).
expect_row() {
	printf '%s\t%s\t%s\t%s\n' "$(sent_total)" "$2" "$3" "$1" \
	    >>"$DW_DIR/expect"
}

# check_cache DESC CACHE UPSTREAM: the last query's log line has "cache"
# CACHE and "upstream" UPSTREAM.
check_cache() {
	expect_row "$1" "cache upstream" "$2 $3"
}

# verify_rows: after stop_dnsward, every expect_row of the current
# instance against its log.
verify_rows() {
	local -a rows cols vals
	local n fields values desc f i v got
	[ -f "$DW_DIR/expect" ] || return 0
	# shellcheck disable=SC2086
	mapfile -t rows < <(log_rows $LOG_COLS)
	read -r -a cols <<<"$LOG_COLS"
	while IFS=$'\t' read -r n fields values desc; do
		IFS=$'\t' read -r -a vals <<<"${rows[n - 1]:-}"
		got=""
		for f in $fields; do
			for i in "${!cols[@]}"; do
				[ "${cols[i]}" = "$f" ] || continue
				v=${vals[i]:-?}
				[ "$v" = null ] && v=-
				got="$got${got:+ }$v"
			done
		done
		check_eq "$desc: log line $n $fields" "$values" "$got"
	done <"$DW_DIR/expect"
}

# sleep_until MS: sleep until now_ms reaches MS (not at all if past).
sleep_until() {
	local d
	d=$(($1 - $(now_ms)))
	[ "$d" -gt 0 ] && sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
	return 0
}

# kdig_dw ARGS...: kdig at the current instance (counted: one message).
kdig_dw() {
	local t=udp a
	for a in "$@"; do
		[ "$a" = +tcp ] && t=tcp
	done
	count_sent "$t" 1
	kdig @127.0.0.1 -p "$DW_PORT" +time=2 +retry=0 "$@" 2>&1
}
have_kdig=0
command -v kdig >/dev/null 2>&1 && have_kdig=1

# --- instances -------------------------------------------------------------------

start_nsd
UP=127.0.0.1:$NSD_PORT
ref_host=$(nsd_dig host.test A | rrs ANSWER)
check_eq "NSD serves host.test A (zone sanity)" \
    "$(printf 'host.test. in a 192.0.2.1\nhost.test. in a 192.0.2.2')" \
    "$ref_host"

# main: the default cache (256MB, serve-stale off) and a policy.
DW_ALLOW='"127.0.0.0/8", "::1/128"' DW_EXTRA=$POLICY \
    start_dnsward main 1 "$UP"
DW_CACHE="{ serve-stale: 1h, negative-max-ttl: 2 }" \
    start_dnsward stale 1 "$UP"
DW_CACHE="{ serve-stale: 1s }" start_dnsward stale1 1 "$UP"
DW_CACHE="{ negative-max-ttl: 2 }" start_dnsward neg 1 "$UP"
DW_CACHE="{ min-ttl: 100 }" start_dnsward minttl 1 "$UP"
DW_CACHE="{ max-ttl: 10 }" start_dnsward maxttl 1 "$UP"
DW_CACHE="{ size: off }" start_dnsward off 1 "$UP"
DW_CACHE="{ size: 64k }" start_dnsward small 1 "$UP"
note "nsd on $UP; dnsward instances main stale stale1 neg minttl maxttl off small"

# --- the cache off: no "cache" field at all --------------------------------------

use_dnsward off
for i in 1 2; do
	dw_dig host.test A >/dev/null
	dw_dig +tcp host.test A >/dev/null
	dw_dig nosuch.test A >/dev/null
done
stop_dnsward TERM
check_nomatch "size: off: no cache summary at SIGTERM" "cache:" \
    "$(cat "$DW_DIR/stderr")"
check_log
check_eq "size: off: no log line has a cache field (absent or null)" 0 \
    "$(log_rows cache | grep -cvE '^(-|null)$')"
check_eq "size: off: every query went upstream" 6 \
    "$(log_rows upstream | grep -c "^$UP\$")"

# --- size: 64k, the memory bound; segmented LRU ------------------------------------

# host.test is asked three times (hit: protected), then 600 names once
# each: they evict one another, never host.test.
use_dnsward small
dw_dig host.test A >/dev/null
check_cache "64k: host.test A first" miss "$UP"
for i in 1 2; do
	dw_dig host.test A >/dev/null
	check_cache "64k: host.test A again ($i)" hit -
done
for i in $(seq 1 600); do
	echo "f$i.flood.test A"
done >"$WORK/flood"
count_sent udp 600
n=$(dig @127.0.0.1 -p "$DW_PORT" +time=2 +tries=1 +noall +comments \
    -f "$WORK/flood" 2>&1 | grep -c 'status: NXDOMAIN')
check_eq "64k: 600 names asked once, all answered NXDOMAIN" 600 "$n"
out=$(dw_dig host.test A)
check_eq "64k: host.test after the flood answered" "$ref_host" \
    "$(echo "$out" | rrs ANSWER)"
check_cache "64k: host.test A after the flood: still cached" hit -
dw_dig f600.flood.test A >/dev/null
check_cache "64k: the last name of the flood still cached" hit -
dw_dig f1.flood.test A >/dev/null
check_cache "64k: the first name of the flood evicted" miss "$UP"

# --- TTL 0, truncation --------------------------------------------------------------------

use_dnsward main
for i in 1 2; do
	out=$(dw_dig zero.test A)
	check_eq "TTL 0: zero.test answered ($i)" "0 192.0.2.9" \
	    "$(echo "$out" | section ANSWER | awk '{ print $2, $5 }')"
	check_cache "TTL 0: zero.test never stored ($i)" miss "$UP"
done

# The upstream is always asked with EDNS 1232: what is stored is the whole
# answer, whatever the client that caused it could take.
out=$(dw_dig +notcp +noedns mid.test TXT)
check_match "truncation: 800-byte answer to a client without EDNS: TC" \
    "flags:.* tc" "$out"
check_cache "truncation: mid.test TXT +noedns" miss "$UP"
out=$(dw_dig +notcp +bufsize=1232 mid.test TXT)
check_nomatch "truncation: EDNS 1232 hit is not truncated" "flags:.* tc" "$out"
check_eq "truncation: EDNS 1232 hit has the 5 TXT records" 5 \
    "$(echo "$out" | section ANSWER | grep -c TXT)"
check_cache "truncation: mid.test TXT EDNS 1232" hit -
out=$(dw_dig +tcp big.test TXT)
check_eq "truncation: big.test over TCP (8 KB, TCP upstream) 40 records" 40 \
    "$(echo "$out" | section ANSWER | grep -c TXT)"
check_cache "truncation: big.test TXT over TCP" miss "$UP"
out=$(dw_dig +tcp big.test TXT)
check_eq "truncation: big.test over TCP again: 40 records" 40 \
    "$(echo "$out" | section ANSWER | grep -c TXT)"
check_cache "truncation: big.test TXT over TCP again" hit -
out=$(dw_dig +notcp big.test TXT)
check_match "truncation: big.test hit over UDP: TC" "flags:.* tc" "$out"
check_cache "truncation: big.test TXT over UDP" hit -

# --- keys: type, DO, CD --------------------------------------------------------------

use_dnsward main
dw_dig sep.test A >/dev/null
check_cache "key: sep.test A first" miss "$UP"
dw_dig sep.test A >/dev/null
check_cache "key: sep.test A again" hit -
out=$(dw_dig sep.test AAAA)
check_cache "key: sep.test AAAA after A" miss "$UP"
check_eq "key: AAAA answer holds the AAAA, not the cached A" \
    "sep.test. in aaaa 2001:db8::10" "$(echo "$out" | rrs ANSWER)"
out=$(dw_dig sep.test AAAA)
check_cache "key: sep.test AAAA again" hit -
check_eq "key: AAAA hit holds the AAAA" "sep.test. in aaaa 2001:db8::10" \
    "$(echo "$out" | rrs ANSWER)"
dw_dig +dnssec sep.test A >/dev/null
check_cache "key: sep.test A +dnssec (DO) after a plain A" miss "$UP"
out=$(dw_dig +dnssec sep.test A)
check_cache "key: sep.test A +dnssec again" hit -
check_match "key: DO hit echoes DO in the OPT" "; EDNS: version: 0, flags: do;" \
    "$out"
dw_dig +cd sep.test A >/dev/null
check_cache "key: sep.test A +cd after plain and DO" miss "$UP"
out=$(dw_dig +cd sep.test A)
check_cache "key: sep.test A +cd again" hit -
check_match "key: CD hit echoes CD" "^;; flags: [a-z ]*cd" "$out"
dw_dig +cd +dnssec sep.test A >/dev/null
check_cache "key: sep.test A +cd +dnssec (both flags)" miss "$UP"
out=$(dw_dig sep.test A)
check_cache "key: plain sep.test A still a hit" hit -
check_nomatch "key: plain hit has no CD (not the +cd copy)" \
    "^;; flags: [a-z ]*cd" "$out"

# --- the client's name case on hits ---------------------------------------------------

dw_dig mixed.test A >/dev/null
check_cache "case: mixed.test A (lower case) first" miss "$UP"
out=$(dw_dig WwW.MiXeD.TeSt A)
check_cache "case: WwW.MiXeD.TeSt is another name" miss "$UP"
out=$(dw_dig MiXeD.TeSt A)
check_cache "case: MiXeD.TeSt A after mixed.test" hit -
check_eq "case: the question echoes MiXeD.TeSt. as sent" ";MiXeD.TeSt." \
    "$(echo "$out" | dig_question)"
check_eq "case: the hit's answer is mixed.test's" \
    "mixed.test. in a 192.0.2.11" "$(echo "$out" | rrs ANSWER)"
out=$(dw_dig +tcp MIXED.TEST A)
check_cache "case: MIXED.TEST A over TCP" hit -
check_eq "case: TCP question echoes MIXED.TEST." ";MIXED.TEST." \
    "$(echo "$out" | dig_question)"
# The other way round: the stored copy came from a mixed-case question.
dw_dig CaSe2.TeSt A >/dev/null
check_cache "case: CaSe2.TeSt A first" miss "$UP"
out=$(dw_dig case2.test A)
check_cache "case: case2.test A after CaSe2.TeSt" hit -
check_eq "case: question echoes case2.test. (not the stored CaSe2.TeSt.)" \
    ";case2.test." "$(echo "$out" | dig_question)"
check_eq "case: answer owner in the client's case" "case2.test." \
    "$(echo "$out" | section ANSWER | awk 'NR == 1 { print $1 }')"

# --- RD=0 answers are not stored --------------------------------------------------------

out=$(dw_dig +nord nord.test A)
check_eq "RD=0: nord.test answered" "192.0.2.13" \
    "$(echo "$out" | section ANSWER | awk '{ print $5 }')"
check_cache "RD=0: nord.test A +nord" miss "$UP"
dw_dig nord.test A >/dev/null
check_cache "RD=0: nord.test A (RD=1) after +nord not stored" miss "$UP"
dw_dig nord.test A >/dev/null
check_cache "RD=0: nord.test A (RD=1) again" hit -

# --- the policy on hits -------------------------------------------------------------------

# tracker.test is a CNAME to t.evil.test (malware feed): blocked by
# inspecting the answer -- on the miss, and on the hit.
for i in 1 2; do
	out=$(dw_dig tracker.test A)
	check_eq "policy: tracker.test (CNAME to a blocked name) NXDOMAIN ($i)" \
	    NXDOMAIN "$(echo "$out" | dig_status)"
	check_eq "policy: tracker.test no CNAME given out ($i)" "" \
	    "$(echo "$out" | section ANSWER)"
	if [ "$i" = 1 ]; then
		expect_row "policy: tracker.test blocked on a miss" \
		    "cache upstream firewall_rule_action matched_name" \
		    "miss $UP BLOCK t.evil.test."
	else
		expect_row "policy: tracker.test blocked on a cache hit" \
		    "cache upstream firewall_rule_action matched_name" \
		    "hit - BLOCK t.evil.test."
	fi
done
# A blocked query name is never looked up.
for i in 1 2; do
	out=$(dw_dig evil.test A)
	check_eq "policy: evil.test (query name blocked) NXDOMAIN ($i)" \
	    NXDOMAIN "$(echo "$out" | dig_status)"
	expect_row "policy: evil.test ($i): BLOCK, no cache, no upstream" \
	    "firewall_rule_action cache upstream" "BLOCK - -"
done
out=$(dw_dig +tcp evil.test A)
expect_row "policy: evil.test over TCP: BLOCK, no cache, no upstream" \
    "firewall_rule_action cache upstream" "BLOCK - -"
# Verdicts are not cached: alias.test -> target.test is blocked for the
# guest 127.0.0.2 only; the same cached answer serves both clients.
out=$(dw_dig -b 127.0.0.2 alias.test A)
check_eq "policy: guest's alias.test (target blocked for guests) NXDOMAIN" \
    NXDOMAIN "$(echo "$out" | dig_status)"
expect_row "policy: guest's alias.test blocked on a miss" \
    "cache upstream firewall_rule_action matched_name" \
    "miss $UP BLOCK target.test."
out=$(dw_dig -b 127.0.0.1 alias.test A)
check_eq "policy: 127.0.0.1's alias.test answered from the guest's miss" \
    "$(printf 'alias.test. in cname target.test.\ntarget.test. in a 192.0.2.20')" \
    "$(echo "$out" | rrs ANSWER)"
expect_row "policy: 127.0.0.1's alias.test allowed on a hit" \
    "cache upstream firewall_rule_action" "hit - ALLOW"
out=$(dw_dig -b 127.0.0.2 +tcp alias.test A)
check_eq "policy: guest's alias.test again (TCP) NXDOMAIN" NXDOMAIN \
    "$(echo "$out" | dig_status)"
expect_row "policy: guest's alias.test again blocked on a hit" \
    "cache upstream firewall_rule_action matched_name" \
    "hit - BLOCK target.test."

# --- prime: first answers, while NSD runs --------------------------------------

use_dnsward neg
T_NEG=$(now_ms)
out=$(dw_dig nosuch.test A)
check_eq "negative-max-ttl 2: miss passes the upstream's TTL 60" 60 \
    "$(echo "$out" | sec_ttl AUTHORITY)"
check_cache "negative-max-ttl 2: nosuch.test first" miss "$UP"
out=$(dw_dig nosuch.test A)
check_eq "negative-max-ttl 2: hit NXDOMAIN" NXDOMAIN \
    "$(echo "$out" | dig_status)"
check_cache "negative-max-ttl 2: nosuch.test again" hit -
t=$(echo "$out" | sec_ttl AUTHORITY)
check_le "negative-max-ttl 2: hit's SOA TTL clamped" "$t" 2
check_ge "negative-max-ttl 2: hit's SOA TTL not yet 0" "$t" 1

use_dnsward maxttl
T_MAX=$(now_ms)
out=$(dw_dig host.test A)
check_eq "max-ttl 10: miss passes the upstream's TTL 300" 300 \
    "$(echo "$out" | sec_ttl ANSWER)"
check_cache "max-ttl 10: first host.test A" miss "$UP"
out=$(dw_dig host.test A)
check_eq "max-ttl 10: hit answers host.test's data" "$ref_host" \
    "$(echo "$out" | rrs ANSWER)"
check_le "max-ttl 10: hit's answer TTL clamped" \
    "$(echo "$out" | sec_ttl ANSWER)" 10
check_ge "max-ttl 10: hit's answer TTL counted from 10" \
    "$(echo "$out" | sec_ttl ANSWER)" 8
check_eq "max-ttl 10: every TTL of the hit (NS, glue too) within 10" "" \
    "$(echo "$out" | every_ttl | tr ' ' '\n' | awk '$1 > 10')"
check_cache "max-ttl 10: second host.test A" hit -

use_dnsward main
T1=$(now_ms)
out1=$(dw_dig host.test A)
check_eq "miss: host.test A NOERROR" NOERROR "$(echo "$out1" | dig_status)"
check_eq "miss: host.test A answer as NSD's" "$ref_host" \
    "$(echo "$out1" | rrs ANSWER)"
ttl1=$(echo "$out1" | sec_ttl ANSWER)
check_eq "miss: the upstream's TTL (300) passed through" 300 "$ttl1"
check_cache "miss: first host.test A" miss "$UP"

T_NX=$(now_ms)
nx1=$(dw_dig nosuch.test A)
check_eq "negative miss: nosuch.test NXDOMAIN" NXDOMAIN \
    "$(echo "$nx1" | dig_status)"
check_eq "negative miss: SOA in authority" \
    "test. in soa ns.test. admin.test. 2026112301 3600 600 86400 60" \
    "$(echo "$nx1" | rrs AUTHORITY)"
check_eq "negative miss: SOA TTL min(SOA TTL 120, MINIMUM 60)" 60 \
    "$(echo "$nx1" | sec_ttl AUTHORITY)"
check_cache "negative miss: nosuch.test A" miss "$UP"
nd1=$(dw_dig host.test MX)
check_eq "NODATA miss: host.test MX NOERROR, no answer" "NOERROR:" \
    "$(echo "$nd1" | dig_status):$(echo "$nd1" | section ANSWER)"
check_cache "NODATA miss: host.test MX" miss "$UP"

use_dnsward stale
T_BRIEF=$(now_ms)
out=$(dw_dig brief.test A)
check_eq "serve-stale: brief.test (TTL $BRIEF_TTL) answered" "192.0.2.7" \
    "$(echo "$out" | section ANSWER | awk '{ print $5 }')"
check_cache "serve-stale: brief.test A first" miss "$UP"
dw_dig host.test A >/dev/null
check_cache "serve-stale: host.test A first" miss "$UP"
out=$(dw_dig nosuch.test A)
check_eq "serve-stale: nosuch.test NXDOMAIN" NXDOMAIN \
    "$(echo "$out" | dig_status)"
check_cache "serve-stale: nosuch.test A first" miss "$UP"
use_dnsward stale1
dw_dig brief.test A >/dev/null
check_cache "serve-stale 1s: brief.test A first" miss "$UP"

use_dnsward minttl
T_MIN=$(now_ms)
out=$(dw_dig tiny.test A)
check_eq "min-ttl 100: miss passes the upstream's TTL $TINY_TTL" \
    "$TINY_TTL" "$(echo "$out" | sec_ttl ANSWER)"
check_cache "min-ttl 100: tiny.test first" miss "$UP"
out=$(dw_dig tiny.test A)
t=$(echo "$out" | sec_ttl ANSWER)
check_le "min-ttl 100: hit's TTL within min-ttl" "$t" 100
check_ge "min-ttl 100: hit's TTL raised above $TINY_TTL (to ~100)" "$t" 95
check_cache "min-ttl 100: tiny.test again" hit -

use_dnsward main
T_SHORT=$(now_ms)
out=$(dw_dig short.test A)
check_eq "short.test (TTL $SHORT_TTL) miss answered" "192.0.2.6" \
    "$(echo "$out" | section ANSWER | awk '{ print $5 }')"
check_cache "short.test A first" miss "$UP"
out=$(dw_dig +tcp short.test A)
check_cache "short.test A again over TCP" hit -
check_le "short.test hit: TTL at most $SHORT_TTL" \
    "$(echo "$out" | sec_ttl ANSWER)" "$SHORT_TTL"

# --- ~2 s later: hits, TTLs counted down -----------------------------------------------------

sleep_until $((T1 + 2200))
out2=$(dw_dig host.test A)
check_cache "hit: host.test A 2 s later" hit -
check_eq "hit: same answer data" "$(echo "$out1" | rrs ANSWER)" \
    "$(echo "$out2" | rrs ANSWER)"
ttl2=$(echo "$out2" | sec_ttl ANSWER)
spent=$((($(now_ms) - T1) / 1000 + 1))	# whole seconds, rounded up
check_le "hit: TTL counted down by at least 1 s" "$ttl2" $((ttl1 - 1))
check_ge "hit: TTL counted down by no more than the $spent s spent" \
    "$ttl2" $((ttl1 - spent))
check_eq "hit: header flags (AA clear, RA set, RD echoed)" "qr rd ra" \
    "$(echo "$out2" | dig_flags)"
check_eq "hit: every record's TTL counted down alike (NS, glue: 300 too)" \
    "$ttl2" "$(echo "$out2" | every_ttl)"
out=$(dw_dig +tcp host.test A)
check_cache "hit: host.test A over TCP" hit -
check_eq "hit over TCP: same answer data" "$ref_host" \
    "$(echo "$out" | rrs ANSWER)"
if [ "$have_kdig" = 1 ]; then
	out=$(kdig_dw +tcp +short host.test A | sort)
	check_eq "hit: kdig +tcp answer" "$(printf '192.0.2.1\n192.0.2.2')" \
	    "$out"
	check_cache "hit: kdig +tcp host.test A" hit -
	out=$(kdig_dw +notcp +short host.test A | sort)
	check_eq "hit: kdig UDP (no EDNS) answer" \
	    "$(printf '192.0.2.1\n192.0.2.2')" "$out"
	check_cache "hit: kdig UDP host.test A" hit -
else
	skip "kdig checks: kdig not installed (apt-get install knot-dnsutils)"
fi

sleep_until $((T_NX + 2200))
nx2=$(dw_dig nosuch.test A)
check_cache "negative hit: nosuch.test A" hit -
check_eq "negative hit: NXDOMAIN" NXDOMAIN "$(echo "$nx2" | dig_status)"
check_eq "negative hit: no answer" "" "$(echo "$nx2" | section ANSWER)"
check_eq "negative hit: the same SOA in authority" \
    "$(echo "$nx1" | rrs AUTHORITY)" "$(echo "$nx2" | rrs AUTHORITY)"
t=$(echo "$nx2" | sec_ttl AUTHORITY)
spent=$((($(now_ms) - T_NX) / 1000 + 1))
check_le "negative hit: SOA TTL counted down from 60" "$t" 59
check_ge "negative hit: SOA TTL counted down by no more than the $spent s spent" \
    "$t" $((60 - spent))
nd2=$(dw_dig +tcp host.test MX)
check_cache "NODATA hit: host.test MX over TCP" hit -
check_eq "NODATA hit: NOERROR, no answer, SOA in authority" \
    "NOERROR::$(echo "$nd1" | rrs AUTHORITY)" \
    "$(echo "$nd2" | dig_status):$(echo "$nd2" | section ANSWER):$(echo "$nd2" | rrs AUTHORITY)"

# --- negative-max-ttl 2: gone after 3 s (NSD still running) ---------------------------------

use_dnsward neg
sleep_until $((T_NEG + 3100))
out=$(dw_dig nosuch.test A)
check_cache "negative-max-ttl 2: nosuch.test 3 s later" miss "$UP"
check_eq "negative-max-ttl 2: fresh from upstream, TTL 60 again" \
    "NXDOMAIN 60" "$(echo "$out" | dig_status) $(echo "$out" | sec_ttl AUTHORITY)"
dw_dig +tcp nosuch.test A >/dev/null
check_cache "negative-max-ttl 2: stored again (TCP hit)" hit -

# --- NSD stopped: fresh entries still answer ------------------------------------------------

stop_nsd
check_eq "NSD stopped (pid $NSD_PID gone)" no \
    "$(alive "$NSD_PID" && echo yes || echo no)"
check_eq "NSD no longer answers" "" \
    "$(nsd_dig +short +time=1 host.test A | grep -E '^[0-9]')"

use_dnsward main
out=$(dw_dig host.test A)
check_eq "upstream down: host.test A still NOERROR" NOERROR \
    "$(echo "$out" | dig_status)"
check_eq "upstream down: host.test A data from the cache" "$ref_host" \
    "$(echo "$out" | rrs ANSWER)"
check_cache "upstream down: host.test A" hit -
out=$(dw_dig +tcp host.test A)
check_eq "upstream down: host.test A over TCP data" "$ref_host" \
    "$(echo "$out" | rrs ANSWER)"
check_cache "upstream down: host.test A over TCP" hit -
out=$(dw_dig nosuch.test A)
check_eq "upstream down: nosuch.test still NXDOMAIN from the cache" \
    NXDOMAIN "$(echo "$out" | dig_status)"
check_cache "upstream down: nosuch.test A" hit -

if [ $(($(now_ms) - T_SHORT)) -lt $(((SHORT_TTL - 1) * 1000 - 300)) ]; then
	out=$(dw_dig short.test A)
	check_eq "upstream down: short.test (TTL $SHORT_TTL) still answered" \
	    "NOERROR 192.0.2.6" \
	    "$(echo "$out" | dig_status) $(echo "$out" | section ANSWER |
	    awk '{ print $5 }')"
	check_cache "upstream down: short.test within its TTL" hit -
else
	skip "short.test within its TTL: $(($(now_ms) - T_SHORT)) ms since it was stored (machine too slow)"
fi

# serve-stale: brief.test expired (TTL 2), the upstream is down.
use_dnsward stale
sleep_until $((T_BRIEF + (BRIEF_TTL + 1) * 1000 + 200))
out=$(dw_dig brief.test A)
check_eq "serve-stale: expired brief.test NOERROR" NOERROR \
    "$(echo "$out" | dig_status)"
check_eq "serve-stale: the stale data" "brief.test. in a 192.0.2.7" \
    "$(echo "$out" | rrs ANSWER)"
check_eq "serve-stale: every TTL 30" 30 "$(echo "$out" | every_ttl)"
check_eq "serve-stale: EDE 3 (Stale Answer)" "; EDE: 3 (Stale Answer)" \
    "$(echo "$out" | dig_ede)"
check_cache "serve-stale: brief.test A" stale "$UP"
out=$(dw_dig +tcp brief.test A)
check_eq "serve-stale over TCP: NOERROR, TTL 30, EDE 3" \
    "NOERROR 30 ; EDE: 3 (Stale Answer)" \
    "$(echo "$out" | dig_status) $(echo "$out" | every_ttl) $(echo "$out" | dig_ede)"
check_cache "serve-stale: brief.test A over TCP" stale "$UP"
out=$(dw_dig +noedns brief.test A)
check_eq "serve-stale without EDNS: NOERROR, the data" \
    "NOERROR brief.test. in a 192.0.2.7" \
    "$(echo "$out" | dig_status) $(echo "$out" | rrs ANSWER)"
check_nomatch "serve-stale without EDNS: no OPT" "OPT PSEUDOSECTION|EDE" \
    "$out"
check_eq "serve-stale without EDNS: every TTL 30" 30 \
    "$(echo "$out" | every_ttl)"
check_cache "serve-stale: brief.test A +noedns" stale "$UP"
if [ "$have_kdig" = 1 ]; then
	out=$(kdig_dw +tcp +edns brief.test A)
	check_match "serve-stale: kdig +tcp +edns sees EDE 3" "EDE: 3" "$out"
	check_cache "serve-stale: kdig brief.test A" stale "$UP"
fi
out=$(dw_dig host.test A)
check_eq "serve-stale: fresh host.test is a plain hit (no EDE)" \
    "NOERROR " "$(echo "$out" | dig_status) $(echo "$out" | dig_ede)"
check_cache "serve-stale: host.test A" hit -
out=$(dw_dig never.test A)
check_eq "serve-stale: a name never cached SERVFAIL, EDE 22" \
    "SERVFAIL ; EDE: 22 (No Reachable Authority)" \
    "$(echo "$out" | dig_status) $(echo "$out" | dig_ede)"
check_cache "serve-stale: never.test A" miss "$UP"
out=$(dw_dig nosuch.test A)
check_eq "serve-stale: expired NXDOMAIN (negative-max-ttl 2) served stale" \
    "NXDOMAIN 30" "$(echo "$out" | dig_status) $(echo "$out" | every_ttl)"
check_eq "serve-stale: stale NXDOMAIN keeps its SOA" \
    "test. in soa ns.test. admin.test. 2026112301 3600 600 86400 60" \
    "$(echo "$out" | rrs AUTHORITY)"
# RFC 8914 has 19 (Stale NXDOMAIN Answer) for this; 3 is accepted too.
check_match "serve-stale: stale NXDOMAIN carries EDE 3 or 19" \
    "^; EDE: (3|19) " "$(echo "$out" | dig_ede)"
check_cache "serve-stale: nosuch.test A" stale "$UP"

# --- TTLs run out, NSD stopped ---------------------------------------------------------------

use_dnsward main
sleep_until $((T_SHORT + SHORT_TTL * 1000 + 1200))
for proto in udp tcp; do
	opt=+notcp
	[ "$proto" = tcp ] && opt=+tcp
	out=$(dw_dig $opt short.test A)
	check_eq "expired short.test, upstream down, serve-stale off: $proto SERVFAIL, EDE 22" \
	    "SERVFAIL ; EDE: 22 (No Reachable Authority)" \
	    "$(echo "$out" | dig_status) $(echo "$out" | dig_ede)"
	expect_row "expired short.test ($proto)" "cache upstream rcode reason" \
	    "miss $UP SERVFAIL upstream-failure"
done

use_dnsward stale1
out=$(dw_dig brief.test A)
check_eq "serve-stale 1s: brief.test expired over 1 s ago: SERVFAIL, EDE 22" \
    "SERVFAIL ; EDE: 22 (No Reachable Authority)" \
    "$(echo "$out" | dig_status) $(echo "$out" | dig_ede)"
check_cache "serve-stale 1s: brief.test A long expired" miss "$UP"

use_dnsward minttl
sleep_until $((T_MIN + (TINY_TTL + 1) * 1000 + 200))
out=$(dw_dig tiny.test A)
check_eq "min-ttl 100: tiny.test (TTL $TINY_TTL) still answered after $TINY_TTL s, upstream down" \
    "NOERROR tiny.test. in a 192.0.2.5" \
    "$(echo "$out" | dig_status) $(echo "$out" | rrs ANSWER)"
check_cache "min-ttl 100: tiny.test A after its own TTL" hit -

use_dnsward maxttl
sleep_until $((T_MAX + 11200))
out=$(dw_dig host.test A)
check_eq "max-ttl 10: host.test (TTL 300) gone after 10 s: SERVFAIL" \
    SERVFAIL "$(echo "$out" | dig_status)"
check_cache "max-ttl 10: host.test A after 10 s" miss "$UP"

# --- SIGTERM: the summary line, the decision log ----------------------------------------------

# summary_of: the "cache: ..." line of the current instance's stderr.
SUMMARY_RE='cache: [0-9]+ entries, [0-9]+ of [0-9]+ bytes, [0-9]+ hits, [0-9]+ misses, [0-9]+ stale, [0-9]+ evicted$'
summary_of() {
	grep -E "$SUMMARY_RE" "$DW_DIR/stderr" | head -n 1
}
# count_of WORD LINE: the number before WORD in the summary line.
count_of() {
	printf '%s\n' "$2" | grep -Eo "[0-9]+ $1" | head -n 1 | cut -d' ' -f1
}

for inst in main stale stale1 neg minttl maxttl small; do
	use_dnsward "$inst"
	stop_dnsward TERM
	line=$(summary_of)
	check_match "$inst: stderr has the cache summary line" "$SUMMARY_RE" \
	    "$line"
	check_log
	verify_rows
	if [ -n "$line" ]; then
		check_eq "$inst: summary hits = log lines with cache hit" \
		    "$(log_rows cache | grep -c '^hit$')" "$(count_of hits "$line")"
		check_eq "$inst: summary stale = log lines with cache stale" \
		    "$(log_rows cache | grep -c '^stale$')" \
		    "$(count_of stale "$line")"
		# A stale answer may count as a miss too (it was one, before
		# the upstream failed).
		check_ge "$inst: summary misses >= log lines with cache miss" \
		    "$(count_of misses "$line")" \
		    "$(log_rows cache | grep -c '^miss$')"
		check_le "$inst: summary misses <= log lines with miss or stale" \
		    "$(count_of misses "$line")" \
		    "$(log_rows cache | grep -cE '^(miss|stale)$')"
		bound=268435456
		[ "$inst" = small ] && bound=65536
		check_eq "$inst: summary bound" "$bound" \
		    "$(printf '%s\n' "$line" | sed -E 's/.* of ([0-9]+) bytes.*/\1/')"
	fi
done
use_dnsward main
check_ge "main: entries in the summary" \
    "$(count_of entries "$(summary_of)")" 10
use_dnsward small
line=$(summary_of)
check_le "64k: bytes in the summary within the bound" \
    "$(printf '%s\n' "$line" | sed -E 's/.*entries, ([0-9]+) of.*/\1/')" 65536
check_ge "64k: the summary counts evictions" "$(count_of evicted "$line")" 300

# --- bad cache: settings -----------------------------------------------------------------------

C=$WORK/conf
mkdir -p "$C"
pick_port P1
# conf_with FILE CACHE-MAPPING: the standard config with that cache: line.
conf_with() {
	DW_NAME=conf DW_CACHE=$2 write_conf "$1" "$P1" 1 "127.0.0.1:53"
}
# check_bad DESC FILE TOKEN KEY-REGEX: -t fails with FILE:LINE:COL: at
# TOKEN (where it starts on the cache: line), naming the key.
check_bad() {
	local line col out st
	line=$(grep -n '^cache:' "$2" | cut -d: -f1)
	col=$(sed -n "${line}p" "$2" | awk -v t="$3" '{ print index($0, t) }')
	out=$(timeout 10 "$DNSWARD" -t -c "$2" 2>&1)
	st=$?
	check_eq "$1: -t exits 1" 1 "$st"
	check_match "$1: error at $(basename "$2"):$line:$col naming /$4/" \
	    "^$2:$line:$col: .*$4" "$out"
}
conf_with "$C/good.yaml" "{ size: 64k, min-ttl: 0, max-ttl: 1d, negative-max-ttl: 1h, serve-stale: off }"
out=$(timeout 10 "$DNSWARD" -t -c "$C/good.yaml" 2>&1)
st=$?
check_eq "cache: every key, good values: -t exits 0" 0 "$st"
[ "$st" = 0 ] || note "$out"
conf_with "$C/size.yaml" "{ size: 12 }"
check_bad "cache: { size: 12 }" "$C/size.yaml" 12 'cache\.size'
conf_with "$C/unit.yaml" "{ size: 12parsecs }"
check_bad "cache: { size: 12parsecs }" "$C/unit.yaml" 12parsecs 'cache\.size'
conf_with "$C/minmax.yaml" "{ min-ttl: 100, max-ttl: 10 }"
check_bad "cache: { min-ttl: 100, max-ttl: 10 }" "$C/minmax.yaml" "{" \
    'min-ttl.*max-ttl'
conf_with "$C/stale.yaml" "{ serve-stale: banana }"
check_bad "cache: { serve-stale: banana }" "$C/stale.yaml" banana \
    'cache\.serve-stale'
conf_with "$C/key.yaml" "{ sise: 1G }"
check_bad "cache: { sise: 1G } (unknown key)" "$C/key.yaml" sise 'sise'

finish
