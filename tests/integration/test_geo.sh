# test_geo.sh -- answer-country, answer-asn and client-country rules with
# libmaxminddb: MaxMind's GeoLite2 country test database (tests/data/mmdb)
# and an ASN database written here by tests/tools/mkmmdb.pl; NSD answers
# in a blocked country or AS -- directly and at the end of a CNAME chain --
# over UDP and TCP, for each block response; the pseudo-country unknown;
# the decision log's answer_ip / answer_country / answer_asn; missing and
# corrupt databases refused by -t with FILE:LINE:COL.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_geo.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig
need perl
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
    bail "perl MaxMind::DB::Writer installed" \
    "missing (libmaxmind-db-writer-perl; tools/install-deps --test)"

MMDB=${SRCDIR:-.}/tests/data/mmdb
COUNTRY=$MMDB/maxmind-test/GeoLite2-Country-Test.mmdb
ASN=$WORK/asn.mmdb
printf '198.51.100.0/24 asn=64500\n2001:db8:5::/48 asn=64501\n' |
    perl "${SRCDIR:-.}/tests/tools/mkmmdb.pl" -t GeoLite2-ASN - "$ASN" \
    >"$WORK/mkmmdb.out" 2>&1 ||
    bail "ASN fixture written by mkmmdb.pl" "$(cat "$WORK/mkmmdb.out")"

# From GeoLite2-Country-Test.expected.tsv: 81.2.69.142 GB, 50.114.0.1 US,
# 67.43.156.1 BT; 192.0.2.77 is in no network of the database.
NSD_EXTRA="gb	IN A	81.2.69.142
us	IN A	50.114.0.1
bt	IN A	67.43.156.1
unk	IN A	192.0.2.77
cgb	IN CNAME	gb.test.
as	IN A	198.51.100.10
as6	IN AAAA	2001:db8:5::1
cas	IN CNAME	as.test.
as7	IN A	198.51.100.77"

DW_EXTRA="geo: { country-db: $COUNTRY, asn-db: $ASN }
policy:
  groups:
    - name: geo
      priority: 10
      rules:
        - { name: bhutan, priority: 1, match: { answer-country: [bt] }, action: block }
        - { name: britain, priority: 2, match: { answer-country: GB }, action: block, response: nodata }
        - { name: bad-as6, priority: 3, match: { answer-asn: [AS64501] }, action: block, response: refused }
        - { name: drop-as7, priority: 4, match: { answer-asn: [64500], tld: [test], qtype: A, feed: as7 }, action: block, response: drop }
        - { name: bad-as, priority: 5, match: { answer-asn: [64500] }, action: block, response: { override: { a: [192.0.2.99], ttl: 30 } } }
        - { name: nowhere, priority: 9, match: { answer-country: [unknown], qtype: A }, action: alert }
feeds:
  - { id: as7, path: $WORK/as7.txt }"

printf 'as7.test\n' >"$WORK/as7.txt"
start_nsd
start_dnsward geo 1 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on $DW_PORT"

for proto in udp tcp; do
	opt=
	[ "$proto" = tcp ] && opt=+tcp
	for round in miss hit; do
		p="$proto/$round"
		out=$(dw_dig $opt bt.test A)
		check_eq "$p: bt.test (67.43.156.1, BT) NXDOMAIN" NXDOMAIN \
		    "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt gb.test A)
		check_eq "$p: gb.test (81.2.69.142, GB) NODATA: NOERROR" \
		    NOERROR "$(echo "$out" | dig_status)"
		check_eq "$p: gb.test NODATA: no answer" "" \
		    "$(echo "$out" | section ANSWER)"
		check_match "$p: gb.test NODATA: SOA in authority" SOA \
		    "$(echo "$out" | section AUTHORITY)"
		out=$(dw_dig $opt cgb.test A)
		check_eq "$p: cgb.test -> gb.test: blocked at the end of the chain" \
		    "NOERROR " "$(echo "$out" | dig_status) $(echo "$out" |
		    section ANSWER)"
		out=$(dw_dig $opt as.test A)
		check_eq "$p: as.test (AS64500): override A 192.0.2.99" \
		    "as.test. 30 IN A 192.0.2.99" "$(echo "$out" |
		    section ANSWER | sed 's/[[:space:]]\{1,\}/ /g')"
		out=$(dw_dig $opt cas.test A)
		check_eq "$p: cas.test -> as.test (AS64500): override at the end of the chain" \
		    "192.0.2.99" "$(echo "$out" | section ANSWER |
		    awk '$4 == "A" {print $5}')"
		out=$(dw_dig $opt +time=1 as7.test A)
		check_eq "$p: as7.test (AS64500, name on feed as7): dropped" "" \
		    "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt as6.test AAAA)
		check_eq "$p: as6.test AAAA (AS64501) REFUSED" REFUSED \
		    "$(echo "$out" | dig_status)"
		out=$(dw_dig $opt us.test A)
		check_eq "$p: us.test (US) answered" "50.114.0.1" \
		    "$(echo "$out" | section ANSWER | awk '{print $5}')"
		out=$(dw_dig $opt unk.test A)
		check_eq "$p: unk.test (unknown: alert only) answered" \
		    "192.0.2.77" "$(echo "$out" | section ANSWER |
		    awk '{print $5}')"
	done
done

stop_dnsward TERM
check_log
rows=$(log_rows query_name firewall_rule_action rule answer_ip answer_country answer_asn reason cache)
row() {
	printf '%s\n' "$rows" | awk -F'\t' -v n="$1" -v c="$2" \
	    '$1 == n && $8 == c { print; exit }' | cut -f2-7
}
check_eq "log: bt.test BLOCK bhutan, 67.43.156.1 BT" \
    "$(printf 'BLOCK\tbhutan\t67.43.156.1\tBT\t-\tanswer-country')" \
    "$(row bt.test. miss)"
check_eq "log: cgb.test BLOCK britain on gb.test's address (cache hit)" \
    "$(printf 'BLOCK\tbritain\t81.2.69.142\tGB\t-\tanswer-country')" \
    "$(row cgb.test. hit)"
check_eq "log: as.test BLOCK bad-as, AS64500, no country in the database" \
    "$(printf 'BLOCK\tbad-as\t198.51.100.10\tunknown\t64500\tanswer-asn')" \
    "$(row as.test. miss)"
check_eq "log: cas.test BLOCK bad-as on as.test's address" \
    "$(printf 'BLOCK\tbad-as\t198.51.100.10\tunknown\t64500\tanswer-asn')" \
    "$(row cas.test. miss)"
check_eq "log: as7.test BLOCK drop-as7 (all conditions ANDed)" \
    "$(printf 'BLOCK\tdrop-as7\t198.51.100.77\tunknown\t64500\tanswer-asn')" \
    "$(row as7.test. miss)"
check_eq "log: as6.test BLOCK bad-as6, AS64501" \
    "$(printf 'BLOCK\tbad-as6\t2001:db8:5::1\tunknown\t64501\tanswer-asn')" \
    "$(row as6.test. miss)"
check_eq "log: unk.test ALERT nowhere (pseudo-country unknown)" \
    "$(printf 'ALERT\tnowhere\t192.0.2.77\tunknown\t-\tanswer-country')" \
    "$(row unk.test. miss)"
check_eq "log: us.test ALLOW by default, no address logged" \
    "$(printf 'ALLOW\tnull\t-\t-\t-\tdefault')" "$(row us.test. miss)"

# --- client-country: the test client (127.0.0.1) is in no country ---------

DW_EXTRA="geo: { country-db: $COUNTRY }
policy:
  groups:
    - name: clients
      priority: 1
      rules:
        - { name: from-nowhere, priority: 1, match: { client-country: [unknown], qtype: TXT }, action: block, response: refused }
        - { name: from-gb, priority: 2, match: { client-country: [GB] }, action: block }"
start_dnsward cc 1 "127.0.0.1:$NSD_PORT"
check_eq "client-country unknown (loopback) + TXT: REFUSED" REFUSED \
    "$(dw_dig txt.test TXT | dig_status)"
check_eq "client-country GB does not match loopback: host.test answered" \
    NOERROR "$(dw_dig host.test A | dig_status)"
# A reload with a corrupt database keeps the running policy and database.
sed -i "s|country-db: [^ }]*|country-db: $MMDB/bad-data/libmaxminddb__libmaxminddb-deep-nesting.mmdb|" \
    "$DW_CONF"
kill -HUP "$DW_PID"
n=0
while [ "$n" -lt 50 ] && ! grep -q 'reload failed' "$DW_DIR/stderr"; do
	sleep 0.1
	n=$((n + 1))
done
check_match "reload with a corrupt country-db fails, naming it" \
    'geo.country-db: .*deep-nesting.mmdb' "$(cat "$DW_DIR/stderr")"
check_match "the running generation stays" \
    'reload failed: a feed or geo database could not be loaded; generation 1 stays' \
    "$(cat "$DW_DIR/stderr")"
check_eq "after the failed reload the client-country rule still works" \
    REFUSED "$(dw_dig txt.test TXT | dig_status)"
stop_dnsward TERM
check_log

# --- databases that cannot be used: refused before serving ----------------

geo_conf() {
	sed -n '1,/^geo:/p' "$DW_CONF" | sed '$d' >"$WORK/g.yaml"
	printf '%s\n' "$1" >>"$WORK/g.yaml"
	"$DNSWARD" -t -c "$WORK/g.yaml" 2>&1
	echo "exit=$?"
}
RULE="policy:
  groups:
    - { name: g, priority: 1, rules: [ { name: r, priority: 1, match: { answer-country: [GB] }, action: block } ] }"
out=$(geo_conf "geo: { country-db: $WORK/nonexistent.mmdb }
$RULE")
check_match "missing country-db: -t fails with FILE:LINE:COL" \
    "g.yaml:[0-9]+:[0-9]+: geo.country-db: .*nonexistent.mmdb" "$out"
check_match "missing country-db: exit 1" "exit=1" "$out"
for bad in libmaxminddb__libmaxminddb-corrupt-search-tree.mmdb \
    libmaxminddb__libmaxminddb-deep-nesting.mmdb \
    maxminddb-golang__cyclic-data-structure.mmdb; do
	out=$(geo_conf "geo: { country-db: $MMDB/bad-data/$bad }
$RULE")
	check_match "corrupt $bad: -t fails naming it" \
	    "g.yaml:[0-9]+:[0-9]+: geo.country-db: .*$bad" "$out"
	check_match "corrupt $bad: exit 1" "exit=1" "$out"
done
out=$(geo_conf "geo: { country-db: $ASN }
$RULE")
check_match "an ASN database given as country-db is refused" \
    "geo.country-db: .*asn.mmdb" "$out"
out=$(geo_conf "$RULE")
check_match "answer-country without geo.country-db: config error" \
    "g.yaml:[0-9]+:[0-9]+: rule 'r': country conditions need geo.country-db" \
    "$out"
out=$(geo_conf "geo: { country-db: $COUNTRY }
policy:
  groups:
    - { name: g, priority: 1, rules: [ { name: r, priority: 1, match: { answer-country: [GBR] }, action: block } ] }")
check_match "a three-letter code is a config error" \
    "'GBR' is not a two-letter country code" "$out"
out=$(geo_conf "geo: { country-db: $COUNTRY, asn-db: $ASN }
policy:
  groups:
    - { name: g, priority: 1, rules: [ { name: r, priority: 1, match: { answer-asn: [AS0, x64500] }, action: block } ] }")
check_match "AS0 is a config error with its place" \
    "g.yaml:[0-9]+:[0-9]+: .*'AS0' is not an AS number" "$out"
check_match "a non-number AS is a config error" "'x64500' is not an AS number" \
    "$out"
out=$(geo_conf "geo: { country-db: $COUNTRY }
policy:
  groups:
    - { name: g, priority: 1, rules: [ { name: r, priority: 1, match: { answer-asn: [64500] }, action: block } ] }")
check_match "answer-asn without geo.asn-db: config error" \
    "rule 'r': answer-asn needs geo.asn-db" "$out"
out=$(geo_conf "geo: { country-db: '' }
$RULE")
check_match "an empty geo path is a config error" \
    "g.yaml:[0-9]+:[0-9]+: geo.country-db: empty path" "$out"

summary
