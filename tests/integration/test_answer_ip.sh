# test_answer_ip.sh -- answer-ip rules: IP feeds (format: ip) matched
# against every A/AAAA of the final answer, directly and at the end of a
# CNAME chain, over UDP and TCP, for each block response; from the cache
# too; rule priority against a query-name allow; the decision log's
# answer_ip / matched_prefix; bad feed lines and misused feeds.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_answer_ip.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig

# The test zone (make_zone): host.test A 192.0.2.1 and .2, AAAA 2001:db8::1;
# www.test CNAME host.test; chain.test CNAME www.test; mail.test A
# 192.0.2.25; ns.test A 127.0.0.1.
IPS=$WORK/bad-ips.txt
cat >"$IPS" <<'EOF'
# addresses nobody should reach
192.0.2.0/30		# host.test's two addresses
2001:db8::/32 ; inline comment
198.51.100.7
not-an-address
192.0.2.1/24
EOF
printf 'mail.test\n' >"$WORK/corp-allow.txt"

printf '127.0.0.1/32\n' >"$WORK/ns-ips.txt"
# RPZ rpz-ip triggers: the trigger's action is the response.
cat >"$WORK/ips.rpz" <<'EOF'
$TTL 60
@	SOA	localhost. root.localhost. 1 3600 600 86400 60
	NS	localhost.
32.9.113.0.203.rpz-ip	CNAME	*.
32.10.113.0.203.rpz-ip	CNAME	rpz-passthru.
24.0.113.0.203.rpz-ip	CNAME	rpz-drop.
48.zz.7.3fff.rpz-ip	CNAME	.
33.1.0.0.127.rpz-ip	CNAME	.
EOF
# 64 harmless addresses before a listed one: every address is checked.
PAD=$(for i in $(seq 1 64); do printf 'pad\tIN A\t198.18.0.%s\n' "$i"; done)
NSD_EXTRA="$PAD
pad	IN A	192.0.2.2
rpzhost	IN A	203.0.113.9
rpzpass	IN A	203.0.113.10
rpzdrop	IN A	203.0.113.11
rpz6	IN AAAA	3fff:7::1"
DW_EXTRA="feeds:
  - { id: rpz-ips, path: $WORK/ips.rpz, format: rpz }
  - { id: bad-ips, path: $IPS, format: ip }
  - { id: corp, path: $WORK/corp-allow.txt }
  - { id: ns-ips, path: $WORK/ns-ips.txt, format: ip }
policy:
  groups:
    - name: g
      priority: 10
      rules:
        - { name: trust-mail, priority: 5, match: { feed: corp }, action: allow }
        - { name: refuse-aaaa, priority: 8, match: { answer-ip: bad-ips, qtype: [AAAA] }, action: block, response: refused }
        - { name: rpz-ip, priority: 9, match: { answer-ip: rpz-ips }, action: block }
        - { name: block-ips, priority: 10, match: { answer-ip: bad-ips }, action: block }
        - { name: note-ns, priority: 20, match: { answer-ip: [ns-ips] }, action: alert }"

start_nsd
start_dnsward aip 1 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on $DW_PORT"

check_match "bad feed lines are reported with FILE:LINE:COL" \
    "bad-ips.txt:5:1: .*not-an-address" "$(cat "$DW_DIR/stderr")"
check_match "host bits set are reported" \
    "bad-ips.txt:6:1: 192.0.2.1/24: host bits set" "$(cat "$DW_DIR/stderr")"
check_match "a bad rpz-ip trigger is reported with its line" \
    "ips.rpz:8: rpz-ip trigger: .*33" "$(cat "$DW_DIR/stderr")"

for proto in udp tcp; do
	opt=
	[ "$proto" = tcp ] && opt=+tcp
	for round in miss hit; do
		out=$(dw_dig $opt host.test A)
		check_eq "$proto/$round: host.test A (192.0.2.1-2 listed) NXDOMAIN" \
		    NXDOMAIN "$(echo "$out" | dig_status)"
		check_eq "$proto/$round: no answer records" "" \
		    "$(echo "$out" | section ANSWER)"
		out=$(dw_dig $opt chain.test A)
		check_eq "$proto/$round: chain.test -> www -> host: blocked at the end of the chain" \
		    NXDOMAIN "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt host.test AAAA)
		check_eq "$proto/$round: host.test AAAA (2001:db8::/32): the AAAA rule answers REFUSED" \
		    REFUSED "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt mail.test A)
		check_eq "$proto/$round: mail.test (allowed by name, ranked first) answered" \
		    NOERROR "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt ns.test A)
		check_eq "$proto/$round: ns.test (alert only) answered" \
		    "127.0.0.1" "$(echo "$out" | section ANSWER | awk '{print $5}')"
		out=$(dw_dig $opt pad.test A)
		check_eq "$proto/$round: pad.test (64 addresses, then a listed one) NXDOMAIN" \
		    NXDOMAIN "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt rpzhost.test A)
		check_eq "$proto/$round: rpzhost.test (rpz-ip CNAME *.): NODATA" \
		    "NOERROR " "$(echo "$out" | dig_status) $(echo "$out" |
		    section ANSWER)"
		out=$(dw_dig $opt rpzpass.test A)
		check_eq "$proto/$round: rpzpass.test (rpz-passthru /32 in a drop /24): answered" \
		    "203.0.113.10" "$(echo "$out" | section ANSWER |
		    awk '{print $5}')"
		out=$(dw_dig $opt rpz6.test AAAA)
		check_eq "$proto/$round: rpz6.test (zz IPv6 trigger, CNAME .): NXDOMAIN" \
		    NXDOMAIN "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt +time=1 rpzdrop.test A)
		check_eq "$proto/$round: rpzdrop.test (rpz-drop /24): no reply" "" \
		    "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt nosuch.test A)
		check_eq "$proto/$round: nosuch.test (no address) NXDOMAIN from NSD" \
		    NXDOMAIN "$(echo "$out" | dig_status)"
	done
done

stop_dnsward TERM
check_log
rows=$(log_rows query_name query_type firewall_rule_action rule answer_ip matched_prefix reason cache)
row() {
	printf '%s\n' "$rows" | awk -F'\t' -v n="$1" -v t="$2" -v c="$3" \
	    '$1 == n && $2 == t && $8 == c { print; exit }' | cut -f3-7
}
check_eq "log: host.test A blocked by block-ips, 192.0.2.1 in 192.0.2.0/30" \
    "$(printf 'BLOCK\tblock-ips\t192.0.2.1\t192.0.2.0/30\tanswer-ip')" \
    "$(row host.test. A miss)"
check_eq "log: the same from the cache" \
    "$(printf 'BLOCK\tblock-ips\t192.0.2.1\t192.0.2.0/30\tanswer-ip')" \
    "$(row host.test. A hit)"
check_eq "log: chain.test blocked on its final address" \
    "$(printf 'BLOCK\tblock-ips\t192.0.2.1\t192.0.2.0/30\tanswer-ip')" \
    "$(row chain.test. A miss)"
check_eq "log: host.test AAAA refused by refuse-aaaa" \
    "$(printf 'BLOCK\trefuse-aaaa\t2001:db8::1\t2001:db8::/32\tanswer-ip')" \
    "$(row host.test. AAAA miss)"
check_eq "log: rpzhost.test blocked by rule rpz-ip, 203.0.113.9/32" \
    "$(printf 'BLOCK\trpz-ip\t203.0.113.9\t203.0.113.9/32\tanswer-ip')" \
    "$(row rpzhost.test. A miss)"
check_eq "log: rpzpass.test allowed by the passthru trigger" \
    "$(printf 'ALLOW\trpz-ip\t203.0.113.10\t203.0.113.10/32\tanswer-ip')" \
    "$(row rpzpass.test. A miss)"
check_eq "log: mail.test allowed by trust-mail, no address checked" \
    "$(printf 'ALLOW\ttrust-mail\t-\t-\tfeed')" "$(row mail.test. A miss)"
check_eq "log: ns.test alert by note-ns" \
    "$(printf 'ALERT\tnote-ns\t127.0.0.1\t127.0.0.1/32\tanswer-ip')" \
    "$(row ns.test. A miss)"

# --- misuse: caught before serving ----------------------------------------

bad_conf() {
	sed -n '1,/^feeds:/p' "$DW_CONF" | sed '$d' >"$WORK/bad.yaml"
	printf '%s\n' "$1" >>"$WORK/bad.yaml"
	"$DNSWARD" -t -c "$WORK/bad.yaml" 2>&1
}
out=$(bad_conf "feeds:
  - { id: ips, path: $IPS, format: ip }
policy:
  groups:
    - { name: g, priority: 1, rules: [ { name: r, priority: 1, match: { feed: ips }, action: block } ] }")
check_match "feed: naming an ip feed is a config error" \
    "bad.yaml:[0-9]+:[0-9]+: .*feed 'ips' is a list of addresses" "$out"
out=$(bad_conf "feeds:
  - { id: names, path: $WORK/corp-allow.txt, format: plain }
policy:
  groups:
    - { name: g, priority: 1, rules: [ { name: r, priority: 1, match: { answer-ip: names }, action: block } ] }")
check_match "answer-ip naming a list of names is a config error" \
    "bad.yaml:[0-9]+:[0-9]+: .*feed 'names' is a list of names" "$out"
out=$(bad_conf "feeds:
  - { id: auto, path: $IPS }
policy:
  groups:
    - { name: g, priority: 1, rules: [ { name: r, priority: 1, match: { feed: auto }, action: block } ] }")
check_match "feed: naming an auto feed that holds addresses fails at load" \
    "bad.yaml:[0-9]+:[0-9]+: rule 'r': feed 'auto' holds addresses" "$out"

summary
