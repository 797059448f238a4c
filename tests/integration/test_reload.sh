# test_reload.sh -- SIGHUP reloads the configuration and the feeds: a new
# policy applies at once, to cached answers too; a broken configuration or
# feed keeps the running policy; settings that need a restart are reported
# and kept; queries during reloads are all answered.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_reload.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig

FEED=$WORK/block.txt
printf 'mail.test\n' >"$FEED"
DW_EXTRA=$(block_feed_conf "$FEED")

start_nsd
start_dnsward reload 1 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on $DW_PORT"

# hup_wait N: send SIGHUP, wait until the reload outcome number N is logged.
hup_wait() {
	local n=0 want=$1
	kill -HUP "$DW_PID"
	while [ "$n" -lt 100 ]; do
		[ "$(grep -c -E 'reload: generation|reload failed' \
		    "$DW_DIR/stderr")" -ge "$want" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# --- cached, then blocked by the reloaded feed ------------------------------

for q in "host.test A" "www.test A" "host.test A" "www.test A"; do
	# shellcheck disable=SC2086
	out=$(dw_dig $q)
	check_eq "before reload: $q NOERROR" NOERROR "$(echo "$out" | dig_status)"
done
check_eq "before reload: the repeats came from the cache" "miss miss hit hit" \
    "$(log_rows cache | tr '\n' ' ' | sed 's/ $//')"

printf 'mail.test\nhost.test\n' >"$FEED"
hup_wait 1 || fail "reload 1 logged within 10 s" logged "nothing"
check_match "reload 1: generation 2 in force" \
    'reload: generation 2 in force \(1 feed, 1 group\)' \
    "$(grep 'reload' "$DW_DIR/stderr")"
# No query since: the idle worker is woken to let generation 1 go.
n=0
while [ "$n" -lt 50 ] && ! grep -q 'generation 1 released' "$DW_DIR/stderr"; do
	sleep 0.1
	n=$((n + 1))
done
check_match "reload 1: the old generation is released without waiting for traffic" \
    'generation 1 released' "$(cat "$DW_DIR/stderr")"

out=$(dw_dig host.test A)
check_eq "after reload: host.test (cached before) now blocked" NXDOMAIN \
    "$(echo "$out" | dig_status)"
out=$(dw_dig +tcp www.test A)
check_eq "after reload: www.test (cached, CNAME to host.test) blocked over TCP" \
    NXDOMAIN "$(echo "$out" | dig_status)"
wait_log 6 >/dev/null
row=$(log_rows query_name firewall_rule_action rule cache | sed -n 6p)
check_eq "log: cached www.test answer inspected: BLOCK by block-bad, a hit" \
    "$(printf 'www.test.\tBLOCK\tblock-bad\thit')" "$row"
row=$(log_rows query_name firewall_rule_action cache | sed -n 5p)
check_eq "log: blocked query name never asks the cache" \
    "$(printf 'host.test.\tBLOCK\t-')" "$row"

# --- a broken feed or configuration keeps the running policy ---------------

mv "$FEED" "$FEED.saved"
hup_wait 2 || fail "reload 2 logged within 10 s" logged "nothing"
check_match "reload with a missing feed fails, generation 2 stays" \
    'reload failed: a feed or geo database could not be loaded; generation 2 stays in force' \
    "$(grep 'reload' "$DW_DIR/stderr" | tail -n 1)"
check_match "the missing feed is named" "$FEED" "$(cat "$DW_DIR/stderr")"
out=$(dw_dig host.test A)
check_eq "after a failed reload: host.test still blocked" NXDOMAIN \
    "$(echo "$out" | dig_status)"
mv "$FEED.saved" "$FEED"

cp "$DW_CONF" "$DW_CONF.good"
printf 'server:\n  threads: lots\n' >>"$DW_CONF"
hup_wait 3 || fail "reload 3 logged within 10 s" logged "nothing"
check_match "reload with a bad config fails, generation 2 stays" \
    'reload failed: .*dnsward.yaml: [0-9]+ errors?; generation 2 stays in force' \
    "$(grep 'reload' "$DW_DIR/stderr" | tail -n 1)"
check_match "the error names FILE:LINE:COL" \
    'dnsward\.yaml:[0-9]+:[0-9]+: ' "$(cat "$DW_DIR/stderr")"
out=$(dw_dig mail.test A)
check_eq "after a failed reload: mail.test still blocked" NXDOMAIN \
    "$(echo "$out" | dig_status)"

# --- restart-only settings are reported and kept --------------------------

sed "s/threads: 1/threads: 2/" "$DW_CONF.good" >"$DW_CONF"
printf 'host.test\n' >"$FEED"
hup_wait 4 || fail "reload 4 logged within 10 s" logged "nothing"
check_match "a changed server.threads is reported as needing a restart" \
    'reload: server.threads changed; it takes a restart to apply' \
    "$(cat "$DW_DIR/stderr")"
check_match "the rest applies: generation 3" \
    'reload: generation 3 in force' "$(grep 'reload' "$DW_DIR/stderr")"
out=$(dw_dig mail.test A)
check_eq "generation 3: mail.test (dropped from the feed) answered" NOERROR \
    "$(echo "$out" | dig_status)"

# --- reloads under queries: nothing lost ----------------------------------

for i in $(seq 1 120); do
	echo "host$((i % 3)).test A"
done | sed 's/host0/host/; s/host1/www/; s/host2/chain/' >"$WORK/batch"
dig @127.0.0.1 -p "$DW_PORT" +tries=1 +time=5 +ignore -f "$WORK/batch" \
    >"$WORK/batch.out" 2>&1 &
bpid=$!
count_sent udp 120
for i in 5 6 7 8 9; do
	hup_wait "$i" || fail "reload $i logged within 10 s" logged "nothing"
done
wait "$bpid"
check_eq "120 queries during 5 reloads: all answered" 120 \
    "$(grep -c 'status: ' "$WORK/batch.out")"
check_eq "none of them SERVFAIL" 0 \
    "$(grep -c 'status: SERVFAIL' "$WORK/batch.out")"
check_match "reloads kept coming: generation 8" 'generation 8 in force' \
    "$(grep 'reload' "$DW_DIR/stderr")"

stop_dnsward TERM
check_log

summary
