# test_install.sh -- `make install` and `make uninstall` into DESTDIR
# staging directories: every file in place with its mode, the unit's
# commands pointing at the prefix (PREFIX=, prefix=, or configure's
# default), an existing dnsward.yaml kept, uninstall removing what install
# put there.  Nothing outside $WORK is touched.
#
# The tree is already built (make test builds it first).  make runs with
# -o all: install's own recipe is what is tested, and a tree built with
# other flags (SANITIZE=...) is not rebuilt behind the test's back.
#
# Run: SRCDIR=. bash tests/integration/test_install.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

# Only what each check sets counts.
unset PREFIX prefix DESTDIR

for f in src/dnsward src/dnsward-ctl; do
	[ -x "$SRCDIR/$f" ] || bail "$f built (run make first)" "missing"
done
[ -f "$SRCDIR/config.mk" ] || bail "config.mk written by configure" "missing"

# conf VAR [prefix=P]: a directory variable as config.mk gives it, with
# ${prefix} expanded by make itself (so whatever configure wrote, this is
# what install uses).
conf() {
	printf 'print:\n\t@echo $(%s)\n' "$1" >"$WORK/print.mk"
	make -s --no-print-directory -f "$SRCDIR/config.mk" \
	    -f "$WORK/print.mk" print ${2:+"$2"}
}
UNITDIR=$(conf systemdsystemunitdir)
SYSUSERSDIR=$(conf sysusersdir)
TMPFILESDIR=$(conf tmpfilesdir)
DEF_SBINDIR=$(conf sbindir)
DEF_SYSCONFDIR=$(conf sysconfdir)
note "configured: sbindir $DEF_SBINDIR, sysconfdir $DEF_SYSCONFDIR," \
    "units $UNITDIR, sysusers $SYSUSERSDIR, tmpfiles $TMPFILESDIR"

# run_make LOG ARGS...: make -C SRCDIR -o all ARGS, output in LOG.
run_make() {
	local log=$1
	shift
	make -C "$SRCDIR" --no-print-directory -o all "$@" >"$log" 2>&1
}

mode_of() {
	stat -c %a "$1" 2>/dev/null || echo missing
}

# unit_line FILE KEY: the value of KEY= in a unit file (first one).
unit_line() {
	sed -n "s/^$2=//p" "$1" | head -n 1
}

# check_tree ROOT PREFIX: everything install puts in place, in the
# directories configure derives from PREFIX.
check_tree() {
	local r=$1 f m u
	local sb etc mn
	sb=$(conf sbindir prefix="$2")
	etc=$(conf sysconfdir prefix="$2")
	mn=$(conf mandir prefix="$2")
	local sbin=$r$sb man=$r$mn
	while read -r m f; do
		check_eq "$f mode" "$m" "$(mode_of "$r$f")"
	done <<EOF
755 $sb/dnsward
755 $sb/dnsward-ctl
644 $mn/man8/dnsward.8
644 $mn/man8/dnsward-ctl.8
644 $mn/man5/dnsward.yaml.5
644 $etc/dnsward/dnsward.yaml
755 $etc/dnsward
644 $etc/logrotate.d/dnsward
644 $UNITDIR/dnsward.service
644 $SYSUSERSDIR/dnsward.conf
644 $TMPFILESDIR/dnsward.conf
EOF
	check_eq "sbin/dnsward is the built daemon" same \
	    "$(cmp -s "$SRCDIR/src/dnsward" "$sbin/dnsward" && echo same)"
	check_eq "sbin/dnsward-ctl is the built dnsward-ctl" same \
	    "$(cmp -s "$SRCDIR/src/dnsward-ctl" "$sbin/dnsward-ctl" &&
	    echo same)"
	check_eq "man pages are the shipped ones" same \
	    "$(cmp -s "$SRCDIR/man/dnsward.8" "$man/man8/dnsward.8" &&
	    cmp -s "$SRCDIR/man/dnsward.yaml.5" "$man/man5/dnsward.yaml.5" &&
	    echo same)"
	check_eq "sysusers, tmpfiles and logrotate files are the shipped ones" \
	    same "$(cmp -s "$SRCDIR/systemd/dnsward.sysusers" \
	    "$r$SYSUSERSDIR/dnsward.conf" &&
	    cmp -s "$SRCDIR/systemd/dnsward.tmpfiles" \
	    "$r$TMPFILESDIR/dnsward.conf" &&
	    cmp -s "$SRCDIR/systemd/dnsward.logrotate" \
	    "$r$etc/logrotate.d/dnsward" && echo same)"

	u=$r$UNITDIR/dnsward.service
	check_eq "unit ExecStartPre= at the prefix" \
	    "$sb/dnsward -t -c $etc/dnsward/dnsward.yaml" \
	    "$(unit_line "$u" ExecStartPre)"
	check_eq "unit ExecStart= at the prefix" \
	    "$sb/dnsward -c $etc/dnsward/dnsward.yaml" \
	    "$(unit_line "$u" ExecStart)"
	check_eq "unit ExecReload= at the prefix" \
	    "$sb/dnsward-ctl -t 110 -c $etc/dnsward/dnsward.yaml reload" \
	    "$(unit_line "$u" ExecReload)"
	# Nothing else changed: putting the shipped paths back gives the
	# shipped unit.
	check_eq "unit otherwise the shipped one" same \
	    "$(sed -e "s|$sb/|/usr/sbin/|g" \
	    -e "s|$etc/dnsward|/etc/dnsward|g" "$u" |
	    cmp -s - "$SRCDIR/systemd/dnsward.service" && echo same)"
}

# --- PREFIX=/usr/local on the command line, DESTDIR --------------------------

R=$WORK/root
ETC=$(conf sysconfdir prefix=/usr/local)
run_make "$WORK/install1.log" install DESTDIR="$R" PREFIX=/usr/local
st=$?
check_eq "make install DESTDIR=... PREFIX=/usr/local exits 0" 0 "$st"
[ "$st" = 0 ] || sed 's/^/#   /' "$WORK/install1.log"
check_tree "$R" /usr/local
check_eq "dnsward.yaml is conf/dnsward.yaml" same \
    "$(cmp -s "$SRCDIR/conf/dnsward.yaml" \
    "$R$ETC/dnsward/dnsward.yaml" && echo same)"
check_eq "no file outside sbindir, sysconfdir, mandir, the systemd dirs" "" \
    "$(cd "$R" && find . -type f | sed 's|^\.||' |
    grep -v -e "^$(conf sbindir prefix=/usr/local)/" -e "^$ETC/" \
    -e "^$(conf mandir prefix=/usr/local)/" -e "^$UNITDIR/" \
    -e "^$SYSUSERSDIR/" -e "^$TMPFILESDIR/")"

# --- a second install keeps an existing dnsward.yaml ----------------------------

Y=$R$ETC/dnsward/dnsward.yaml
echo "# edited by the administrator" >>"$Y"
want=$(cat "$Y")
run_make "$WORK/install2.log" install DESTDIR="$R" PREFIX=/usr/local
check_eq "second make install exits 0" 0 "$?"
check_eq "second install keeps the edited dnsward.yaml" "$want" "$(cat "$Y")"
check_match "second install says it keeps dnsward.yaml" \
    "keeping existing .*$ETC/dnsward/dnsward.yaml" \
    "$(cat "$WORK/install2.log")"
check_tree "$R" /usr/local

# --- make uninstall -----------------------------------------------------------

run_make "$WORK/uninstall1.log" uninstall DESTDIR="$R" PREFIX=/usr/local
check_eq "make uninstall exits 0" 0 "$?"
check_eq "uninstall leaves only the edited dnsward.yaml" \
    ".$ETC/dnsward/dnsward.yaml" \
    "$(cd "$R" && find . -type f | sort | tr '\n' ' ' | sed 's/ $//')"
check_match "uninstall says it keeps the edited dnsward.yaml" \
    "keeping .*dnsward.yaml" "$(cat "$WORK/uninstall1.log")"

# --- prefix= (configure's variable) on the command line -------------------------

R=$WORK/lower
run_make "$WORK/install3.log" install DESTDIR="$R" prefix=/opt/dw
check_eq "make install prefix=/opt/dw exits 0" 0 "$?"
check_tree "$R" /opt/dw
run_make "$WORK/uninstall3.log" uninstall DESTDIR="$R" prefix=/opt/dw
check_eq "make uninstall prefix=/opt/dw exits 0" 0 "$?"
check_eq "uninstall of an unedited install leaves no file" "" \
    "$(cd "$R" && find . -type f)"
check_eq "uninstall removes the emptied etc/dnsward" gone \
    "$([ -e "$R$(conf sysconfdir prefix=/opt/dw)/dnsward" ] &&
    echo there || echo gone)"

# --- PREFIX and DESTDIR from the environment ---------------------------------------

R=$WORK/env
PREFIX=/opt/envdw DESTDIR=$R run_make "$WORK/install4.log" install
check_eq "PREFIX=/opt/envdw DESTDIR=... make install exits 0" 0 "$?"
check_tree "$R" /opt/envdw

# --- configure's default prefix -----------------------------------------------------

R=$WORK/default
DESTDIR=$R run_make "$WORK/install5.log" install
check_eq "DESTDIR=... make install (default prefix) exits 0" 0 "$?"
check_match "the default sbindir is /usr/local/sbin or /usr/sbin" \
    '^/usr(/local)?/sbin$' "$DEF_SBINDIR"
check_eq "dnsward installed in $DEF_SBINDIR" 755 \
    "$(mode_of "$R$DEF_SBINDIR/dnsward")"
check_eq "default unit ExecStart= at $DEF_SBINDIR" \
    "$DEF_SBINDIR/dnsward -c $DEF_SYSCONFDIR/dnsward/dnsward.yaml" \
    "$(unit_line "$R$UNITDIR/dnsward.service" ExecStart)"
DESTDIR=$R run_make "$WORK/uninstall5.log" uninstall
check_eq "DESTDIR=... make uninstall (default prefix) exits 0" 0 "$?"
check_eq "nothing left after uninstall (default prefix)" "" \
    "$(cd "$R" && find . -type f)"

finish
