# test_refresh.sh -- operating the policy: dnsward-ctl reload (its outcome
# and exit status), per-feed refresh on file change, the shrink guard, a
# feed file that disappears, and reloads under a steady load losing no
# query.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_refresh.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

need dig

CTL=${CTL:-$SRCDIR/src/dnsward-ctl}
[ -x "$CTL" ] || bail "dnsward-ctl CTL=$CTL executable" "missing"

# A list of N names "nameI.bad.test" (I = 1..N), written by rename as an
# updater should.
write_list() {
	local f=$1 n=$2
	seq 1 "$n" | sed 's/^/name/; s/$/.bad.test/' >"$f.tmp"
	printf 'extra.test\n' >>"$f.tmp"
	mv "$f.tmp" "$f"
}

LIVE=$WORK/live.txt	# refresh: 1s
STILL=$WORK/still.txt	# no refresh: only reloads read it
write_list "$LIVE" 1000
printf 'still.test\n' >"$STILL"
DW_EXTRA="feeds:
  - { id: live, path: $LIVE, refresh: 1s }
  - { id: still, path: $STILL }
policy:
  groups:
    - name: g
      priority: 10
      rules:
        - { name: block-live, priority: 10, match: { feed: live }, action: block }
        - { name: block-still, priority: 20, match: { feed: still }, action: block }"

# Every nameN.bad.test exists upstream: NXDOMAIN means blocked.
NSD_EXTRA="*.bad IN A 192.0.2.99"
start_nsd
# (127/8: the load clients below come from addresses of their own.)
DW_ALLOW='"127.0.0.0/8", "::1/128"' DW_CACHE="{ size: off }" \
    start_dnsward refresh 2 "127.0.0.1:$NSD_PORT"
SOCK=$DW_DIR/control.sock
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on $DW_PORT"

status_of() {
	dw_dig "$@" | dig_status
}

# wait_stderr PATTERN COUNT: until PATTERN appears COUNT times (10 s).
wait_stderr() {
	local n=0
	while [ "$n" -lt 100 ]; do
		[ "$(grep -c -E "$1" "$DW_DIR/stderr")" -ge "$2" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# --- dnsward-ctl reload ----------------------------------------------------

check_eq "before: extra.test blocked (live feed)" NXDOMAIN \
    "$(status_of extra.test A)"
check_eq "before: host.test resolves" NOERROR "$(status_of host.test A)"

printf 'still.test\nhost.test\n' >"$STILL"
out=$("$CTL" -s "$SOCK" reload 2>&1)
st=$?
check_eq "ctl reload: exit 0" 0 "$st"
check_match "ctl reload: prints the new generation" \
    'reload: generation 2 in force \(2 feeds, 1 group\)' "$out"
check_match "ctl reload: prints each feed read" 'feed still: 2 entries' "$out"
check_eq "after ctl reload: host.test blocked at once (no wait)" NXDOMAIN \
    "$(status_of host.test A)"

# A broken configuration: exit 1, the errors with their place, old policy.
cp "$DW_CONF" "$WORK/good.yaml"
printf 'bogus-key: 1\n' >>"$DW_CONF"
out=$("$CTL" -s "$SOCK" reload 2>&1)
st=$?
check_eq "ctl reload, broken config: exit 1" 1 "$st"
check_match "ctl reload, broken config: FILE:LINE:COL error printed" \
    "dnsward.yaml:[0-9]+:1: unknown key 'bogus-key'" "$out"
check_match "ctl reload, broken config: generation 2 stays" \
    'reload failed: .*1 error; generation 2 stays in force' "$out"
check_eq "broken config: host.test still blocked" NXDOMAIN \
    "$(status_of host.test A)"

# An unreadable feed: exit 1, the feed named with its place.
cp "$WORK/good.yaml" "$DW_CONF"
mv "$STILL" "$STILL.away"
out=$("$CTL" -s "$SOCK" reload 2>&1)
st=$?
check_eq "ctl reload, missing feed: exit 1" 1 "$st"
check_match "ctl reload, missing feed: FILE:LINE:COL and the path" \
    "dnsward.yaml:[0-9]+:[0-9]+: feed 'still': .*still.txt: No such file" "$out"
check_eq "missing feed: host.test still blocked" NXDOMAIN \
    "$(status_of host.test A)"
mv "$STILL.away" "$STILL"

out=$("$CTL" -s "$SOCK" status 2>&1)
check_match "status: reload counts" 'reloads 1 ok, 2 failed' "$out"
check_match "status: the live feed with entries, sha256, refresh" \
    "feed live: 1001 entries, 0 errors, plain, $LIVE, sha256 [0-9a-f]{64}, loaded [0-9T:Z-]+ \([0-9.]+ s\), refresh 1s" \
    "$out"
check_eq "status: the sha256 is the file's" \
    "$(sha256sum "$LIVE" | cut -d' ' -f1)" \
    "$(echo "$out" | sed -n 's/^feed live: .*sha256 \([0-9a-f]*\),.*/\1/p')"

# --- refresh: the changed feed alone is read again --------------------------

nref=$(grep -c 'feed refresh: generation' "$DW_DIR/stderr")
write_list "$LIVE" 1200
printf 'still.test\nhost.test\nns.test\n' >"$STILL"
wait_stderr 'feed refresh: generation' $((nref + 1)) ||
    fail "refresh logged within 10 s" logged "nothing"
check_match "refresh: the live feed read again, alone" \
    'feed refresh: generation 3 in force \(1 feed read again\)' \
    "$(grep 'feed refresh' "$DW_DIR/stderr")"
check_eq "refresh: name1100 (new in the live feed) blocked" NXDOMAIN \
    "$(status_of name1100.bad.test A)"
check_eq "refresh: ns.test (new in the feed without refresh) not yet" \
    NOERROR "$(status_of ns.test A)"
sleep 2.2
check_eq "refresh: an unchanged file is not read again" 1 \
    "$(grep -c 'feed live: 1201 entries' "$DW_DIR/stderr")"

# --- the shrink guard -------------------------------------------------------

write_list "$LIVE" 100	# 1201 -> 101 entries: -91 %
wait_stderr "feed 'live': .*refused: 101 entries, 1201 before" 1 ||
    fail "shrink refusal logged within 10 s" logged "nothing"
check_match "shrink guard: says why, with the place and the way out" \
    "dnsward.yaml:[0-9]+:[0-9]+: feed 'live': $LIVE: refused: 101 entries, 1201 before \(-91%; max-shrink 50%\); keeping the version loaded before \(dnsward-ctl reload --force takes it\)" \
    "$(grep 'refused' "$DW_DIR/stderr")"
check_eq "shrink guard: name500 still blocked (previous version)" NXDOMAIN \
    "$(status_of name500.bad.test A)"
sleep 2.2
check_eq "shrink guard: said once, not at every refresh" 1 \
    "$(grep -c 'refused: 101 entries' "$DW_DIR/stderr")"
out=$("$CTL" -s "$SOCK" status 2>&1)
check_match "status: the refusal counted" \
    'feed live: 1201 entries.*, 1 version refused' "$out"
out=$("$CTL" -s "$SOCK" reload 2>&1)
check_match "reload: the guard holds on reload too" \
    "feed 'live': .*refused: 101 entries, 1201 before" "$out"
check_eq "reload: ns.test (feed without refresh) now blocked" NXDOMAIN \
    "$(status_of ns.test A)"
out=$("$CTL" -s "$SOCK" reload --force 2>&1)
st=$?
check_eq "reload --force: exit 0" 0 "$st"
check_match "reload --force: the short list taken" 'feed live: 101 entries' \
    "$out"
check_eq "after --force: name500 no longer blocked" NOERROR \
    "$(status_of name500.bad.test A)"

# --- a feed file that disappears: kept, said once ---------------------------

nref=$(grep -c "feed 'live'.*keeping the version loaded before" \
    "$DW_DIR/stderr")
rm -f "$LIVE"
wait_stderr "feed 'live': .*No such file.*keeping the version loaded before" 1 ||
    fail "missing feed file logged within 10 s" logged "nothing"
check_eq "feed file gone: name50 still blocked" NXDOMAIN \
    "$(status_of name50.bad.test A)"
sleep 2.2
check_eq "feed file gone: said once" 1 \
    "$(grep -c "feed 'live': .*No such file" "$DW_DIR/stderr")"
write_list "$LIVE" 150
wait_stderr 'feed live: 151 entries' 1 ||
    fail "the feed back: read within 10 s" read "not"
check_eq "feed file back: name120 blocked" NXDOMAIN \
    "$(status_of name120.bad.test A)"

# --- reloads under load: nothing lost ---------------------------------------

write_list "$LIVE" 20000
"$CTL" -s "$SOCK" reload --force >/dev/null 2>&1
for i in $(seq 1 500); do
	case $((i % 4)) in
	0) echo "txt.test TXT" ;;
	1) echo "name$i.bad.test A" ;;
	2) echo "extra.test AAAA" ;;
	*) echo "mail.test MX" ;;
	esac
done >"$WORK/batch"
pids=
# Each client from its own address: dig sets SO_REUSEPORT on its sockets,
# so two digs can be given the same ephemeral port, and with the same
# address both are connected to the same 4-tuple -- the kernel then hands
# a reply to either, and the other times out (seen in CI: 1999 of 2000,
# with every reply sent).  Distinct addresses make the tuples distinct.
for c in 1 2 3 4; do
	dig @127.0.0.1 -b "127.0.0.$((c + 1))" -p "$DW_PORT" +tries=1 +time=5 \
	    +ignore -f "$WORK/batch" \
	    >"$WORK/batch.$c.out" 2>&1 &
	pids="$pids $!"
done
count_sent udp 2000
fails=0
for i in $(seq 1 10); do
	"$CTL" -s "$SOCK" reload >/dev/null 2>&1 || fails=$((fails + 1))
done
# shellcheck disable=SC2086
wait $pids
check_eq "10 reloads under load: all succeeded" 0 "$fails"
check_eq "2000 queries during 10 reloads: all answered" 2000 \
    "$(cat "$WORK"/batch.*.out | grep -c 'status: ')"
check_eq "none of them SERVFAIL" 0 \
    "$(cat "$WORK"/batch.*.out | grep -c 'status: SERVFAIL')"
# When one is missing: what dig said, and what the daemon logged for
# queries it sent no reply to (rcode null).
if [ "$(cat "$WORK"/batch.*.out | grep -c 'status: ')" != 2000 ]; then
	grep -h -i -E 'timed out|comm.*error|no servers' "$WORK"/batch.*.out |
	    sort | uniq -c | sed 's/^/# dig: /'
	grep '"rcode":null' "$DW_LOG" | head -5 | sed 's/^/# log: /'
	note "send errors: $("$CTL" -s "$SOCK" stats 2>/dev/null |
	    grep -o '"send_errors":[0-9]*')"
	note "slowest answer: $(grep -o '"latency_us":[0-9]*' "$DW_LOG" |
	    cut -d: -f2 | sort -n | tail -1) us"
fi
check_eq "blocked names stayed blocked through the reloads (1000 NXDOMAIN)" \
    1000 "$(cat "$WORK"/batch.*.out | grep -c 'status: NXDOMAIN')"
out=$("$CTL" -s "$SOCK" status 2>&1)
check_match "status after: 15 reloads ok" 'reloads [0-9]+ ok' "$out"

stop_dnsward TERM
check_log

summary
