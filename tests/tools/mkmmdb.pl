#!/usr/bin/perl
# mkmmdb.pl -- write a MaxMind DB (mmdb) file from a small text spec, for
# tests (geo fixtures are built at test time, never downloaded).
#
# usage: tests/tools/mkmmdb.pl [options] SPEC OUT [+ [options] SPEC OUT]...
#
# Several databases in one run (one start-up of the writer's modules, which
# costs most of the time) are separated by "+"; each has its own options.
#
#   -l, --layout L        geoip2 (default) or flat: how the shorthand fields
#                         below are written
#   -4                    an IPv4-only tree (ip_version 4; default 6)
#   -r, --record-size N   24 (default), 28 or 32
#   -t, --type NAME       database_type (default "dnsward-Test")
#   -e, --epoch N         build_epoch (default: now)
#   -a, --alias           alias ::ffff:0:0/96, 2001::/32 and 2002::/16 to
#                         the IPv4 subtree, as MaxMind's databases do
#
# SPEC ("-" for stdin) has one network a line; blank lines and # comments
# are skipped:
#
#   NETWORK FIELD...
#
# NETWORK is an IPv4 or IPv6 CIDR (1.2.3.0/24, 2001:db8::/32); a later
# line overrides an earlier one where they overlap.  A FIELD is
#
#   cc=GB        country        geoip2: country.iso_code    flat: country_code
#   rcc=US       registered     geoip2: registered_country.iso_code
#                country        flat:   (not written)
#   asn=64500    AS number      geoip2: autonomous_system_number (uint32)
#                               flat:   asn = "AS64500" (IPinfo's layout)
#   org=NAME     AS name        geoip2: autonomous_system_organization
#                               flat:   as_name
#   PATH:TYPE=V  anything else: PATH is a key, dots make nested maps
#                (country.iso_code); TYPE is utf8_string, uint16, uint32,
#                uint64, int32, double or boolean
#
# A value may be double-quoted to hold spaces ("Example, Inc.").  A key
# has one type in the whole file (the writer's map_key_type_callback is
# per key name).  Reserved networks (RFC 1918, documentation ranges, ...)
# may be inserted.
#
# Needs libmaxmind-db-writer-perl (Debian), MaxMind::DB::Writer::Tree.

use strict;
use warnings;

use Getopt::Long qw(GetOptionsFromArray :config no_ignore_case bundling);
use MaxMind::DB::Writer::Tree;

# Shorthand fields: [ key path, type, value transform ] per layout.
my %short = (
	geoip2 => {
		cc  => [ 'country.iso_code', 'utf8_string' ],
		rcc => [ 'registered_country.iso_code', 'utf8_string' ],
		asn => [ 'autonomous_system_number', 'uint32' ],
		org => [ 'autonomous_system_organization', 'utf8_string' ],
	},
	flat => {
		cc  => [ 'country_code', 'utf8_string' ],
		rcc => undef,
		asn => [ 'asn', 'utf8_string', sub { "AS$_[0]" } ],
		org => [ 'as_name', 'utf8_string' ],
	},
);

my %valid_type = map { $_ => 1 }
    qw(utf8_string uint16 uint32 uint64 int32 double boolean);

my @groups = ([]);
for my $a (@ARGV) {
	if ($a eq '+') {
		push @groups, [];
	} else {
		push @{ $groups[-1] }, $a;
	}
}
build(@$_) for @groups;
exit 0;

# One database: [options] SPEC OUT.
sub build {
	my @args = @_;
	my %opt = (
		layout => 'geoip2',
		'record-size' => 24,
		type => 'dnsward-Test',
	);
	GetOptionsFromArray(\@args, \%opt, 'layout|l=s', '4',
	    'record-size|r=i', 'type|t=s', 'epoch|e=i', 'alias|a', 'help|h')
	    or usage();
	usage() if $opt{help} || @args != 2;
	die "mkmmdb: --layout is geoip2 or flat\n"
	    unless $opt{layout} =~ /^(geoip2|flat)$/;

	my ($spec, $out) = @args;
	my %types;		# key name -> writer type
	my @records = read_spec($spec, $opt{layout}, \%types);
	my $tree = MaxMind::DB::Writer::Tree->new(
		ip_version => $opt{4} ? 4 : 6,
		record_size => $opt{'record-size'},
		database_type => $opt{type},
		languages => ['en'],
		description => { en => 'dnsward test fixture' },
		map_key_type_callback => sub { $types{ $_[0] } },
		remove_reserved_networks => 0,
		alias_ipv6_to_ipv4 => $opt{alias} ? 1 : 0,
	);
	$tree->_set_build_epoch($opt{epoch}) if defined $opt{epoch};
	$tree->insert_network(@$_) for @records;

	my $tmp = "$out.tmp$$";
	open my $o, '>:raw', $tmp or die "mkmmdb: $tmp: $!\n";
	$tree->write_tree($o);
	close $o or die "mkmmdb: $tmp: $!\n";
	rename $tmp, $out or die "mkmmdb: $out: $!\n";
}

# The records of a spec: ([ network, data ], ...).
sub read_spec {
	my ($spec, $layout, $types) = @_;
	my @records;
	my $fh;

	if ($spec eq '-') {
		$fh = \*STDIN;
	} else {
		open $fh, '<', $spec or die "mkmmdb: $spec: $!\n";
	}
	while (my $line = <$fh>) {
		my $where = "$spec:$.";
		$line =~ s/#.*//;
		$line =~ s/^\s+|\s+$//g;
		next if $line eq '';
		my ($net, $rest) = split /\s+/, $line, 2;
		die "$where: \"$net\" is not a CIDR\n"
		    unless $net =~ m{^[0-9A-Fa-f:.]+/\d+$};
		# A record may end up empty ({}): rcc in the flat layout.
		die "$where: no fields\n" unless defined $rest && $rest =~ /\S/;
		my %rec;
		for my $f (fields($rest, $where)) {
			my ($name, $value) = @$f;
			if ($name =~ /^([^:]+):(\w+)$/) {
				die "$where: unknown type \"$2\"\n"
				    unless $valid_type{$2};
				put($types, \%rec, $1, $2, $value, $where);
			} elsif (exists $short{$layout}{$name}) {
				my $s = $short{$layout}{$name};
				next unless defined $s;
				my ($path, $type, $tr) = @$s;
				$value = $tr->($value) if $tr;
				put($types, \%rec, $path, $type, $value,
				    $where);
			} else {
				die "$where: unknown field \"$name\" " .
				    "(cc, rcc, asn, org or PATH:TYPE)\n";
			}
		}
		push @records, [ $net, \%rec ];
	}
	close $fh if $spec ne '-';
	return @records;
}

# Put value at the dotted path in the record, typing each key.
sub put {
	my ($types, $rec, $path, $type, $value, $where) = @_;
	my @keys = split /\./, $path, -1;
	die "$where: bad key path \"$path\"\n" if grep { $_ eq '' } @keys;
	my $leaf = pop @keys;
	for my $k (@keys) {
		settype($types, $k, 'map', $where);
		$rec->{$k} //= {};
		die "$where: \"$k\" is not a map\n" if ref $rec->{$k} ne 'HASH';
		$rec = $rec->{$k};
	}
	settype($types, $leaf, $type, $where);
	$rec->{$leaf} = $value;
}

sub settype {
	my ($types, $key, $type, $where) = @_;
	die "$where: key \"$key\" is both $types->{$key} and $type\n"
	    if defined $types->{$key} && $types->{$key} ne $type;
	$types->{$key} = $type;
}

# The fields of a line: name=value or name="quoted value".
sub fields {
	my ($s, $where) = @_;
	my @f;
	while ($s =~ /\G\s*([^\s=]+)=(?:"([^"]*)"|(\S*))/gc) {
		push @f, [ $1, defined $2 ? $2 : $3 ];
	}
	$s =~ /\G\s*$/gc or die "$where: cannot parse \"$s\"\n";
	return @f;
}

sub usage {
	open my $self, '<', $0 or die "$0: $!\n";
	while (<$self>) {
		last if $. > 1 && !/^#/;
		print STDERR substr($_, 2) if $. > 1;
	}
	exit 2;
}
