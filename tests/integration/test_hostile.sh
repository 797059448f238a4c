# test_hostile.sh -- malformed and hostile messages: NOTIMP, FORMERR,
# ignored responses, a fuzz burst over UDP (v4 and v6) and odd TCP framing;
# the daemon keeps answering and logs every message it received.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_hostile.sh
# FUZZ_SEED=N picks another fuzz sequence (default 7; printed on failure).

. "${SRCDIR:-.}/tests/integration/lib.sh"

# Forwarding and request parsing are under test: every query must reach
# the upstream, not the cache.
DW_CACHE="{ size: off }"

SEED=${FUZZ_SEED:-7}

start_nsd
start_dnsward hostile 1 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on port $DW_PORT"
ref_a=$(nsd_dig +short host.test A | sort)

alive_check() {
	check_eq "still answering after $1" "$ref_a" \
	    "$(dw_dig +short host.test A | sort)"
}

# raw_udp HEX [TIMEOUT-MS]: counted raw datagram; prints reply hex or timeout
raw_udp() {
	count_sent udp 1
	"$DWQ" udp 127.0.0.1 "$DW_PORT" "$1" --timeout "${2:-2000}"
}

raw_tcp() {
	count_sent tcp 1
	"$DWQ" tcp 127.0.0.1 "$DW_PORT" "$1" --timeout "${2:-2000}"
}

# rcode of a reply in hex (header byte 3, low nibble), or the dwq word.
hex_rcode() {
	case "$1" in
	timeout | closed* | connect-failed*) echo "$1" ;;
	*) echo $((0x${1:7:1})) ;;
	esac
}

Q_HOST="04686f7374 0474657374 00 0001 0001"	# host.test A IN

# --- opcodes other than QUERY -> NOTIMP -------------------------------------

for op in 5 1 2 4 15; do
	name=host.test type=A
	[ "$op" = 5 ] && name=test type=SOA
	out=$(dw_q "$name" "$type" --opcode "$op" --id 500)
	check_match "opcode $op over UDP gets NOTIMP" \
	    "^id=500 rcode=NOTIMP qr=1 " "$out"
done
out=$(dw_q test SOA --opcode 5 --tcp --id 501)
check_match "opcode 5 (UPDATE) over TCP gets NOTIMP" \
    "^id=501 rcode=NOTIMP qr=1 " "$out"

# --- QDCOUNT != 1 -> FORMERR ---------------------------------------------------

out=$(raw_udp "1111 0100 0002 0000 0000 0000 $Q_HOST $Q_HOST")
check_eq "QDCOUNT=2 over UDP gets FORMERR (rcode 1)" 1 "$(hex_rcode "$out")"
check_match "QDCOUNT=2 FORMERR keeps the ID and sets QR" "^11118" "$out"
out=$(raw_tcp "1112 0100 0002 0000 0000 0000 $Q_HOST $Q_HOST")
check_eq "QDCOUNT=2 over TCP gets FORMERR" 1 "$(hex_rcode "$out")"
out=$(raw_udp "1113 0100 0000 0000 0000 0000")
check_eq "QDCOUNT=0 gets FORMERR" 1 "$(hex_rcode "$out")"
out=$(raw_udp "1114 0100 0000 0000 0000 0001 00 0029 04d0 00000000 0000")
check_eq "QDCOUNT=0 with only an OPT gets FORMERR" 1 "$(hex_rcode "$out")"

# --- malformed questions and records: FORMERR or silence, never an answer --

# formerr_or_drop DESC HEX
formerr_or_drop() {
	local out rc
	out=$(raw_udp "$2" 700)
	rc=$(hex_rcode "$out")
	case "$rc" in
	1 | timeout) ok "$1 -> $([ "$rc" = 1 ] && echo FORMERR || echo dropped)" ;;
	*) fail "$1" "FORMERR or no reply" "rcode $rc ($out)" ;;
	esac
}

formerr_or_drop "compression pointer to itself" \
    "2001 0100 0001 0000 0000 0000 c00c 0001 0001"
formerr_or_drop "compression pointers pointing at each other" \
    "2002 0100 0001 0000 0000 0000 0161 c010 c00c 0001 0001"
formerr_or_drop "compression pointer past the end" \
    "2003 0100 0001 0000 0000 0000 ffff 0001 0001"
formerr_or_drop "label type 0x40 (reserved)" \
    "2004 0100 0001 0000 0000 0000 44686f7374 00 0001 0001"
formerr_or_drop "label length past the end" \
    "2005 0100 0001 0000 0000 0000 3f686f7374"
formerr_or_drop "name longer than 255 bytes" \
    "2006 0100 0001 0000 0000 0000 $(for i in 1 2 3 4 5; do printf '3f'; printf '61%.0s' $(seq 1 63); done) 00 0001 0001"
formerr_or_drop "question without type and class" \
    "2007 0100 0001 0000 0000 0000 04686f7374 0474657374 00"
formerr_or_drop "OPT in the answer section" \
    "2008 0100 0001 0001 0000 0000 $Q_HOST 00 0029 04d0 00000000 0000"
formerr_or_drop "OPT with a non-root owner" \
    "2009 0100 0001 0000 0000 0001 $Q_HOST 04686f7374 0474657374 00 0029 04d0 00000000 0000"
formerr_or_drop "additional record rdlength past the end" \
    "200a 0100 0001 0000 0000 0001 $Q_HOST 00 0029 04d0 00000000 00c8 000a"
formerr_or_drop "counts larger than the message" \
    "200b 0100 0001 ffff ffff ffff $Q_HOST"
out=$(raw_udp "200c 0100 0001 0000 0000 0002 $Q_HOST 00 0029 04d0 00000000 0000 00 0029 1000 00000000 0000")
check_eq "two OPT records get FORMERR (RFC 6891 6.1.1)" 1 \
    "$(hex_rcode "$out")"

# --- messages that must not be answered ----------------------------------------

out=$(raw_udp "3001 8180 0001 0001 0000 0000 $Q_HOST c00c 0001 0001 0000012c 0004 c0000201" 700)
check_eq "a response (QR=1) is not answered" timeout "$out"
out=$(raw_udp "3002 8100 0001 0000 0000 0000 $Q_HOST" 700)
check_eq "a QR=1 query-shaped message is not answered" timeout "$out"
out=$(raw_udp "" 700)
check_match "an empty datagram gets FORMERR or nothing" \
    "^(timeout|[0-9a-f]{7}1)" "$out"
out=$(raw_udp "3003 01" 700)
check_eq "a 3-byte datagram is not answered (no header to answer)" \
    timeout "$out"
# A well-formed 4096-byte query (EDNS padding) is answered; with bytes
# after it, the datagram is longer than a receive slot and must still get
# FORMERR, as trailing bytes do, not be cut and answered.
pad=$(printf '0%.0s' $(seq 1 $((4054 * 2))))
big="200d 0100 0001 0000 0000 0001 $Q_HOST 00 0029 1000 00000000 0fda 000c 0fd6 $pad"
out=$(raw_udp "$big")
check_eq "a 4096-byte query (padding option) is answered" 0 \
    "$(hex_rcode "$out")"
out=$(raw_udp "$big $(printf '00%.0s' $(seq 1 100))")
check_eq "a 4196-byte datagram (100 trailing bytes) gets FORMERR" 1 \
    "$(hex_rcode "$out")"
alive_check "single malformed datagrams"

# --- fuzz burst over UDP ---------------------------------------------------------

# fuzz HOST COUNT: dwq sends COUNT hostile datagrams, each followed by a sync
# query; all are counted as sent.
fuzz() {
	local out sent syncs
	out=$("$DWQ" fuzz "$1" "$DW_PORT" "$2" "$SEED" --sync host.test 2>&1)
	sent=$(kv sent "$(echo "$out" | tail -n 1)")
	syncs=$(kv syncs "$(echo "$out" | tail -n 1)")
	count_sent udp $((${sent:-0} + ${syncs:-0}))
	echo "$out" | grep '^violation\|^dead' | head -n 10 | sed 's/^/# /'
	note "fuzz $1 seed $SEED: $(echo "$out" | tail -n 1)"
	check_eq "fuzz $2 hostile datagrams over $1 (seed $SEED): daemon alive" \
	    1 "$(kv alive "$(echo "$out" | tail -n 1)")"
	check_eq "fuzz over $1 (seed $SEED): no reply violates the spec" \
	    0 "$(kv violations "$(echo "$out" | tail -n 1)")"
}

fuzz 127.0.0.1 400
if have_ipv6; then
	fuzz ::1 100
else
	skip "fuzz over IPv6: no IPv6 loopback"
fi
alive_check "the fuzz bursts"

# --- TCP: framing abuse -------------------------------------------------------------

out=$(dw_q host.test A --tcp --split --id 777 --timeout 4000)
check_match "TCP query written one byte at a time is answered" \
    "^id=777 rcode=NOERROR .* an=2 " "$out"
out=$(raw_tcp "$(head -c 40 /dev/urandom | od -An -tx1 | tr -d ' \n' |
    sed 's/^..../4000/; s/^\(....\)../\100/')" 1500)
check_match "TCP garbage frame: FORMERR, silence or close" \
    "^(timeout|closed|[0-9a-f]{7}1)" "$out"
out=$(raw_tcp "4001 8180 0001 0000 0000 0000 $Q_HOST" 700)
check_match "TCP response (QR=1) is not answered" "^(timeout|closed)" "$out"
# Two frames, the second truncated, then we close: the first is answered.
count_sent tcp 1
out=$("$DWQ" tcp 127.0.0.1 "$DW_PORT" \
    "001b 4002 0100 0001 0000 0000 0000 $Q_HOST 01f4 4003 01" --raw \
    --timeout 2000)
check_match "TCP: a full frame followed by a partial one is answered" \
    "^40028" "$out"
# Half a frame, then nothing: the idle timer (2 s) must reclaim it.
out=$("$DWQ" tcp 127.0.0.1 "$DW_PORT" "0100 4004" --raw --timeout 5000)
check_eq "TCP connection stalled mid-frame is closed by the server" \
    closed "$out"
alive_check "TCP framing abuse"

# --- hostile query names (the log must stay valid JSON) -----------------------

for n in 'q"uote.test' 'back\\slash.test' '\000nul\010ctl.test' \
    '\255high\127.test' 'dot\.inside.test' '{"x":1}.test'; do
	out=$(dw_q "$n" A --id 4444)
	check_match "query name $n answered (NXDOMAIN from NSD)" \
	    "^id=4444 rcode=NXDOMAIN " "$out"
done

# --- stop and log ------------------------------------------------------------------

stop_dnsward TERM
check_log
rows=$(log_rows query_name rcode firewall_rule_action reason)
n=$(echo "$rows" | awk -F'\t' '$2 == "NOTIMP" && $3 == "NONE"' | wc -l)
check_ge "log: NOTIMP answers logged with action NONE" "$n" 6
n=$(echo "$rows" | awk -F'\t' '$2 == "FORMERR" && $3 == "NONE"' | wc -l)
check_ge "log: FORMERR answers logged with action NONE" "$n" 5
n=$(echo "$rows" | awk -F'\t' '$3 == "NONE" && $4 == "default"' | wc -l)
check_eq "log: no NONE-action line has reason \"default\"" 0 "$n"
names=$("$DWQ" jsonfield "$DW_LOG" query_name)
# jsonfield prints the JSON string body: \\ is one backslash of the name's
# presentation form; a quote may be presented bare (") or escaped (\").
# log_name DESC FORM...: exactly one line carries one of the forms.
log_name() {
	local desc=$1 args=() f
	shift
	for f in "$@"; do
		args+=(-e "$f")
	done
	check_eq "log: query_name $desc" 1 \
	    "$(printf '%s\n' "$names" | grep -cxF "${args[@]}")"
}
log_name 'with a quote' 'q\"uote.test.' 'q\\\"uote.test.'
log_name 'with a backslash' 'back\\\\slash.test.'
log_name 'with NUL and control bytes as \DDD' '\\000nul\\010ctl.test.'
log_name 'with high bytes as \DDD' '\\255high\\127.test.'
log_name 'with a dot inside a label' 'dot\\.inside.test.'
log_name 'that looks like JSON' '{\"x\":1}.test.' '{\\\"x\\\":1}.test.'
note "reasons in the log: $(echo "$rows" | awk -F'\t' '{print $4}' |
    sort | uniq -c | tr -s ' ' | tr '\n' ',')"

finish
