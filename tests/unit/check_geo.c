/*
 * check_geo.c -- unit tests for geo.c: MaxMind's country test databases
 * against their expected.tsv (every row), the flat iptoasn country
 * database, a sweep over the address space compared with plain
 * libmaxminddb lookups, ASN and country fixtures written at test time by
 * tests/tools/mkmmdb.pl in both layouts (IPv4 and IPv6 trees, 24/28/32-bit
 * records, value variants), every file of bad-data/ and files corrupted
 * here on purpose (pointers outside the data, loops, too deep a tree, bad
 * data, truncation), missing / directory / empty / text files, concurrent
 * lookups, and geo_valid_cc().
 *
 * Data: tests/data/mmdb (MaxMind's test and bad-data databases, copied
 * into the repository, see its README).  The 5 MB flat iptoasn database is
 * not: it is read from $DNSWARD_TEST_DATA/mmdb, else ../shared/data/mmdb
 * beside the repository, and the checks that need it say so and pass over
 * it when it is absent (the flat layout is also covered by fixtures).  The writer is $SRCDIR/tests/tools/mkmmdb.pl, which needs
 * libmaxmind-db-writer-perl (tools/install-deps --test).  Missing data or
 * writer fail the tests that need them; nothing is skipped silently.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <maxminddb.h>

#include "geo.h"

#define TSV_NAME	"GeoLite2-Country-Test.expected.tsv"

static char	 srcdir[512];
static char	 mmdbdir[600];		/* tests/data/mmdb */
static char	 bigdir[600];		/* where iptoasn-country.mmdb is */
static char	 tmpdir[64];		/* fixtures written here */
static int	 have_fixtures;		/* every mkmmdb.pl run succeeded */
static char	 fixture_err[3072];

/* Helpers. */

static void
path_in(char *buf, size_t bufsz, const char *dir, const char *name)
{
	ck_assert_int_lt(snprintf(buf, bufsz, "%s/%s", dir, name),
	    (int)bufsz);
}

static void
write_file(const char *path, const void *p, size_t len)
{
	FILE	*f;

	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The whole file; caller frees. */
static uint8_t *
read_all(const char *path, size_t *len)
{
	struct stat	 sb;
	uint8_t		*p;
	FILE		*f;

	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_int_eq(fstat(fileno(f), &sb), 0);
	ck_assert_ptr_nonnull(p = malloc((size_t)sb.st_size + 1));
	ck_assert_uint_eq(fread(p, 1, (size_t)sb.st_size, f),
	    (size_t)sb.st_size);
	fclose(f);
	*len = (size_t)sb.st_size;
	return p;
}

/* A sockaddr for a textual address. */
static const struct sockaddr *
sa_of(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_msg(inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1,
		    "bad address in test: %s", text);
		sin6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)ss;
}

static struct geo *
open_ok(const char *path, enum geo_kind kind)
{
	struct geo	*g;
	char		 err[1024];

	g = geo_open(path, kind, err, sizeof(err));
	ck_assert_msg(g != NULL, "%s: %s", path, err);
	return g;
}

/* geo_open fails, and its message starts with "PATH: " and holds want. */
static void
open_fails(const char *path, enum geo_kind kind, const char *want)
{
	struct geo	*g;
	char		 err[1024];
	size_t		 plen = strlen(path);

	err[0] = '\0';
	g = geo_open(path, kind, err, sizeof(err));
	ck_assert_msg(g == NULL, "%s: opened, expected \"%s\"", path, want);
	ck_assert_msg(strncmp(err, path, plen) == 0 &&
	    strncmp(err + plen, ": ", 2) == 0,
	    "message does not name the file: %s", err);
	ck_assert_msg(strstr(err + plen, want) != NULL,
	    "%s: got \"%s\", want \"%s\"", path, err, want);
}

static void
mmdb_path(char *buf, size_t bufsz, const char *name)
{
	path_in(buf, bufsz, mmdbdir, name);
	ck_assert_msg(access(buf, R_OK) == 0, "%s: %s", buf, strerror(errno));
}

/* The iptoasn database, or 0 (with a note) when it is not there. */
static int
big_path(char *buf, size_t bufsz)
{
	path_in(buf, bufsz, bigdir, "iptoasn-country.mmdb");
	if (access(buf, R_OK) == 0)
		return 1;
	printf("note: %s absent (set DNSWARD_TEST_DATA or put ../shared "
	    "beside the repository): its checks not run\n", buf);
	return 0;
}

/* A fixture written by main() with mkmmdb.pl. */
static void
fixture(char *buf, size_t bufsz, const char *name)
{
	ck_assert_msg(have_fixtures, "fixtures not built: %s", fixture_err);
	path_in(buf, bufsz, tmpdir, name);
}

static void
expect_cc(const struct geo *g, const char *addr, const char *want)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = sa_of(addr, &ss);
	enum geo_result	 r, r2;
	const char	*why = NULL;
	char		 cc[3], cc2[3];
	const uint8_t	*bytes;

	r = geo_country(g, sa, cc, &why);
	if (sa->sa_family == AF_INET)
		bytes = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	else
		bytes = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	r2 = geo_country_addr(g, sa->sa_family, bytes, cc2, NULL);
	ck_assert_msg(r == r2 && strcmp(cc, cc2) == 0,
	    "%s: sockaddr and bytes lookups differ", addr);
	ck_assert_msg(r != GEO_ERROR, "%s: error: %s", addr, why);
	if (want == NULL) {
		ck_assert_msg(r == GEO_UNKNOWN, "%s: got %s, want unknown",
		    addr, cc);
		ck_assert_str_eq(cc, "");
		return;
	}
	ck_assert_msg(r == GEO_FOUND, "%s: unknown, want %s", addr, want);
	ck_assert_msg(strcmp(cc, want) == 0, "%s: got %s, want %s", addr, cc,
	    want);
}

static void
expect_asn(const struct geo *g, const char *addr, uint32_t want)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = sa_of(addr, &ss);
	enum geo_result	 r, r2;
	const char	*why = NULL;
	const uint8_t	*bytes;
	uint32_t	 asn, asn2;

	r = geo_asn(g, sa, &asn, &why);
	if (sa->sa_family == AF_INET)
		bytes = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	else
		bytes = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	r2 = geo_asn_addr(g, sa->sa_family, bytes, &asn2, NULL);
	ck_assert_msg(r == r2 && asn == asn2,
	    "%s: sockaddr and bytes lookups differ", addr);
	ck_assert_msg(r != GEO_ERROR, "%s: error: %s", addr, why);
	if (want == 0) {
		ck_assert_msg(r == GEO_UNKNOWN, "%s: got AS%u, want unknown",
		    addr, asn);
		ck_assert_uint_eq(asn, 0);
		return;
	}
	ck_assert_msg(r == GEO_FOUND, "%s: unknown, want AS%u", addr, want);
	ck_assert_msg(asn == want, "%s: got AS%u, want AS%u", addr, asn,
	    want);
}

/*
 * The country for an address as a plain libmaxminddb reader finds it:
 * lookup, then the documented key paths on the record.  The reference the
 * sweep compares geo.c's table with.  Returns 0 and "" for none.
 */
static int
oracle_cc(const MMDB_s *m, const struct sockaddr *sa, char cc[3])
{
	static const char *const paths[][3] = {
		{ "country", "iso_code", NULL },
		{ "registered_country", "iso_code", NULL },
		{ "country_code", NULL },
		{ "country", NULL },
	};
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	struct sockaddr_in sin;
	const uint8_t	*a6;
	size_t		 i;
	int		 err;

	cc[0] = '\0';
	/* geo.h: an IPv4-mapped address is the IPv4 address. */
	a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (sa->sa_family == AF_INET6 && memcmp(a6, mapped, 12) == 0) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a6 + 12, 4);
		sa = (const struct sockaddr *)&sin;
	}
	r = MMDB_lookup_sockaddr(m, sa, &err);
	if (err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return 0;
	ck_assert_int_eq(err, MMDB_SUCCESS);
	if (!r.found_entry)
		return 0;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		err = MMDB_aget_value(&r.entry, &d, paths[i]);
		if (err != MMDB_SUCCESS || !d.has_data ||
		    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
			continue;
		cc[0] = d.utf8_string[0];
		cc[1] = d.utf8_string[1];
		cc[2] = '\0';
		if (cc[0] >= 'a' && cc[0] <= 'z')
			cc[0] -= 'a' - 'A';
		if (cc[1] >= 'a' && cc[1] <= 'z')
			cc[1] -= 'a' - 'A';
		if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z') {
			cc[0] = '\0';
			continue;
		}
		return 1;
	}
	return 0;
}

/*
 * Compare geo_country with the oracle at every /16 of IPv4 (each at a
 * different host address), the same IPv4-mapped, and 65536 IPv6 addresses
 * spread over the space (the oracle only keeps two-letter codes, so a
 * found code is never anything else).  Returns how many were found.
 */
static size_t
sweep(const char *path)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct geo	*g;
	MMDB_s		 m;
	enum geo_result	 r;
	uint32_t	 i, a;
	size_t		 found = 0;
	char		 cc[3], want[3];
	int		 w;

	g = open_ok(path, GEO_COUNTRY);
	ck_assert_int_eq(MMDB_open(path, MMDB_MODE_MMAP, &m), MMDB_SUCCESS);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	for (i = 0; i < 65536; i++) {
		a = i << 16 | ((i * 40503u) & 0xffff);
		sin.sin_addr.s_addr = htonl(a);
		r = geo_country(g, (struct sockaddr *)&sin, cc, NULL);
		w = oracle_cc(&m, (struct sockaddr *)&sin, want);
		ck_assert_msg(r == (w ? GEO_FOUND : GEO_UNKNOWN) &&
		    strcmp(cc, want) == 0, "%s: %08x: got %d %s, want %s",
		    path, a, r, cc, want);
		found += w;

		/* The same address IPv4-mapped. */
		memset(sin6.sin6_addr.s6_addr, 0, 16);
		sin6.sin6_addr.s6_addr[10] = 0xff;
		sin6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(sin6.sin6_addr.s6_addr + 12, &sin.sin_addr, 4);
		r = geo_country(g, (struct sockaddr *)&sin6, cc, NULL);
		ck_assert_msg(r == (w ? GEO_FOUND : GEO_UNKNOWN) &&
		    strcmp(cc, want) == 0, "%s: ::ffff:%08x: got %d %s, "
		    "want %s", path, a, r, cc, want);
		memset(sin6.sin6_addr.s6_addr, 0, 16);

		/* 2000::/3 more densely than the rest */
		a = (i & 3) == 0 ? i << 16 : (0x2000u | (i & 0x1fff)) << 16 |
		    ((i * 2654435761u) >> 16);
		sin6.sin6_addr.s6_addr[0] = (uint8_t)(a >> 24);
		sin6.sin6_addr.s6_addr[1] = (uint8_t)(a >> 16);
		sin6.sin6_addr.s6_addr[2] = (uint8_t)(a >> 8);
		sin6.sin6_addr.s6_addr[3] = (uint8_t)a;
		sin6.sin6_addr.s6_addr[15] = (uint8_t)i;
		r = geo_country(g, (struct sockaddr *)&sin6, cc, NULL);
		w = oracle_cc(&m, (struct sockaddr *)&sin6, want);
		ck_assert_msg(r == (w ? GEO_FOUND : GEO_UNKNOWN) &&
		    strcmp(cc, want) == 0, "%s: v6 %08x: got %d %s, want %s",
		    path, a, r, cc, want);
		found += w;
	}
	MMDB_close(&m);
	geo_close(g);
	return found;
}

/*
 * Queue a fixture: write its spec, add "[+] OPTS SPEC OUT" to the one
 * mkmmdb.pl command that writes them all (the writer's modules take most
 * of a run to load).  0 on success, else fixture_err says why.
 */
static char	 mkcmd[8192];

static int
mkmmdb(const char *opts, const char *spec, const char *out)
{
	char	 specpath[128];
	size_t	 len = strlen(mkcmd);
	FILE	*f;

	snprintf(specpath, sizeof(specpath), "%s/%s.spec", tmpdir, out);
	if ((f = fopen(specpath, "w")) == NULL ||
	    fputs(spec, f) == EOF || fclose(f) != 0) {
		snprintf(fixture_err, sizeof(fixture_err), "%s: %s", specpath,
		    strerror(errno));
		return -1;
	}
	if (len == 0)
		len = (size_t)snprintf(mkcmd, sizeof(mkcmd),
		    "perl '%s/tests/tools/mkmmdb.pl'", srcdir);
	else
		len += (size_t)snprintf(mkcmd + len, sizeof(mkcmd) - len,
		    " +");
	if ((size_t)snprintf(mkcmd + len, sizeof(mkcmd) - len,
	    " %s '%s' '%s/%s'", opts, specpath, tmpdir, out) >=
	    sizeof(mkcmd) - len) {
		snprintf(fixture_err, sizeof(fixture_err), "command too long");
		return -1;
	}
	return 0;
}

/* Run the queued command; 0 on success, else fixture_err says why. */
static int
mkmmdb_run(void)
{
	char	 errpath[128], msg[1024] = "";
	size_t	 n = 0, len = strlen(mkcmd);
	FILE	*f;
	int	 rc;

	snprintf(errpath, sizeof(errpath), "%s/mkmmdb.err", tmpdir);
	snprintf(mkcmd + len, sizeof(mkcmd) - len, " 2>'%s'", errpath);
	if ((rc = system(mkcmd)) == 0)
		return 0;
	if ((f = fopen(errpath, "r")) != NULL) {
		n = fread(msg, 1, sizeof(msg) - 1, f);
		fclose(f);
	}
	msg[n] = '\0';
	snprintf(fixture_err, sizeof(fixture_err), "mkmmdb.pl failed (status "
	    "%d): %s(it needs libmaxmind-db-writer-perl: tools/install-deps "
	    "--test)", rc, msg);
	return -1;
}

/* Fixtures. */

/* AS numbers by network; the same in each layout and tree. */
static const char asn_spec_v4[] =
    "# AS fixtures: IPv4\n"
    "192.0.2.0/24\tasn=64500 org=\"Example, Inc.\"\n"
    "198.51.100.0/25\tasn=64501 org=Two\n"
    "198.51.100.128/25 asn=4200000000 org=\"Four-byte\"\n"
    "203.0.113.0/24\tasn=0 org=\"Not routed\"\n"
    "10.0.0.0/8\tasn=64496\n"
    "10.1.0.0/16\tasn=64497 org=\"More specific\"\n";
static const char asn_spec_v6[] =
    "2001:db8::/32\tasn=64502 org=Six\n"
    "2001:db8:1::/48\tasn=13335 org=\"More specific six\"\n";

/* Country layouts: registered-country fallback, value shapes. */
static const char cc_spec[] =
    "192.0.2.0/24\tcc=GB rcc=US\n"
    "198.51.100.0/24\trcc=FR\n"
    "203.0.113.0/24\tcc=gb\n"
    "10.0.0.0/24\tcc=GBR\n"
    "10.0.1.0/24\tcc=G1 rcc=DE\n"
    "10.0.2.0/24\tcontinent.code:utf8_string=EU\n"
    "10.0.3.0/24\tcc=\"\"\n"
    "10.0.4.0/24\tcc=\"\xc3\x9f" "B\"\n"
    "2001:db8::/32\tcc=NZ\n";

/* IPinfo's flat layout: country and asn as strings, in one database. */
static const char ipinfo_spec[] =
    "192.0.2.0/24 country:utf8_string=JP asn:utf8_string=AS2519 "
    "as_name:utf8_string=\"ARTERIA Networks\"\n"
    "198.51.100.0/24 country:utf8_string=us asn:utf8_string=as13335\n"
    "203.0.113.0/24 country:utf8_string=None asn:utf8_string=\"\"\n"
    "2001:db8::/32 country:utf8_string=DE asn:utf8_string=64500\n";

/* Two /32s at the ends of an IPv4 tree: two 32-node chains. */
static const char deep_spec[] =
    "0.0.0.0/32 asn=1\n"
    "128.0.0.0/32 asn=2\n";

struct variant {
	const char	*name;
	const char	*spec;
	const char	*addr[4];
	uint32_t	 want[4];	/* 0: unknown */
	const char	*schema;
	size_t		 bad;
};

/* ASN value shapes, one database each (a key has one type per file). */
static const struct variant asn_variants[] = {
	{ "asn-u64",
	  "192.0.2.0/24 autonomous_system_number:uint64=4294967295\n"
	  "198.51.100.0/24 autonomous_system_number:uint64=4294967296\n",
	  { "192.0.2.1", "198.51.100.1" }, { 4294967295u, 0 }, "geoip2", 1 },
	{ "asn-u16",
	  "192.0.2.0/24 autonomous_system_number:uint16=65000\n",
	  { "192.0.2.1", "198.51.100.1" }, { 65000, 0 }, "geoip2", 0 },
	{ "asn-i32",
	  "192.0.2.0/24 autonomous_system_number:int32=64500\n"
	  "198.51.100.0/24 autonomous_system_number:int32=-5\n",
	  { "192.0.2.1", "198.51.100.1" }, { 64500, 0 }, "geoip2", 1 },
	{ "asn-traits",
	  "192.0.2.0/24 traits.autonomous_system_number:uint32=64510 "
	  "cc=SE\n",
	  { "192.0.2.1" }, { 64510 }, "geoip2", 0 },
	{ "asn-as_number",
	  "192.0.2.0/24 as_number:uint32=64520 as_organization:utf8_string=X\n",
	  { "192.0.2.1" }, { 64520 }, "flat", 0 },
	{ "asn-numeric",
	  "192.0.2.0/24 asn:uint32=64530\n",
	  { "192.0.2.1" }, { 64530 }, "flat", 0 },
	{ "asn-strings",
	  "192.0.2.0/26 asn:utf8_string=AS\n"
	  "192.0.2.64/26 asn:utf8_string=ASX1\n"
	  "192.0.2.128/26 asn:utf8_string=AS99999999999\n"
	  "192.0.2.192/26 asn:utf8_string=4294967295\n",
	  { "192.0.2.1", "192.0.2.65", "192.0.2.129", "192.0.2.193" },
	  { 0, 0, 0, 4294967295u }, "flat", 3 },
	{ "asn-mixed",
	  "192.0.2.0/24 autonomous_system_number:uint32=64540\n"
	  "198.51.100.0/24 asn:utf8_string=AS64541\n",
	  { "192.0.2.1", "198.51.100.1" }, { 64540, 64541 }, "mixed", 0 },
};

static int
build_fixtures(void)
{
	char	 both[2048];
	size_t	 i;

	snprintf(both, sizeof(both), "%s%s", asn_spec_v4, asn_spec_v6);
	if (mkmmdb("-l geoip2 -t GeoLite2-ASN -e 1700000000", both,
	    "asn-geoip2.mmdb") == -1 ||
	    mkmmdb("-l flat -t ipinfo-asn -r 28", both, "asn-flat.mmdb")
	    == -1 ||
	    mkmmdb("-l geoip2 -r 32 -a", both, "asn-geoip2-alias.mmdb") == -1 ||
	    mkmmdb("-4 -l geoip2 -r 24", asn_spec_v4, "asn4-24.mmdb") == -1 ||
	    mkmmdb("-4 -l flat -r 28", asn_spec_v4, "asn4-28.mmdb") == -1 ||
	    mkmmdb("-4 -l geoip2 -r 32", asn_spec_v4, "asn4-32.mmdb") == -1 ||
	    mkmmdb("-l geoip2 -t GeoIP2-Country", cc_spec, "cc-geoip2.mmdb")
	    == -1 ||
	    mkmmdb("-l flat -t country", cc_spec, "cc-flat.mmdb") == -1 ||
	    mkmmdb("-t ipinfo", ipinfo_spec, "ipinfo.mmdb") == -1 ||
	    mkmmdb("-4 -r 24", deep_spec, "deep.mmdb") == -1)
		return -1;
	for (i = 0; i < sizeof(asn_variants) / sizeof(asn_variants[0]); i++) {
		snprintf(both, sizeof(both), "%s.mmdb", asn_variants[i].name);
		if (mkmmdb("", asn_variants[i].spec, both) == -1)
			return -1;
	}
	return mkmmdb_run();
}

/* MaxMind's test databases against expected.tsv. */

/* Add d (may be negative) to the address in sa, in place. */
static void
sa_add(struct sockaddr *sa, int d)
{
	uint8_t	*a;
	int	 i, n, carry = d;

	if (sa->sa_family == AF_INET) {
		a = (uint8_t *)&((struct sockaddr_in *)sa)->sin_addr;
		n = 4;
	} else {
		a = ((struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		n = 16;
	}
	for (i = n - 1; i >= 0 && carry != 0; i--) {
		int	 v = a[i] + carry;

		a[i] = (uint8_t)(v & 0xff);
		carry = v < 0 ? -1 : v >> 8;
	}
}

/* Set the host bits of the address in sa (after plen bits) to 1. */
static void
sa_last(struct sockaddr *sa, int plen)
{
	uint8_t	*a;
	int	 i, n;

	if (sa->sa_family == AF_INET) {
		a = (uint8_t *)&((struct sockaddr_in *)sa)->sin_addr;
		n = 32;
	} else {
		a = ((struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		n = 128;
	}
	for (i = plen; i < n; i++)
		a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

static void
compare_oracle(const struct geo *g, const MMDB_s *m,
    const struct sockaddr *sa, const char *exp, const char *what)
{
	enum geo_result	 r;
	char		 cc[3], want[3], text[64];
	int		 w;

	r = geo_country(g, sa, cc, NULL);
	w = oracle_cc(m, sa, want);
	inet_ntop(sa->sa_family, sa->sa_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)sa)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr,
	    text, sizeof(text));
	ck_assert_msg(r == (w ? GEO_FOUND : GEO_UNKNOWN) &&
	    strcmp(cc, want) == 0, "%s (%s): got %d \"%s\", libmaxminddb "
	    "\"%s\"", text, what, r, cc, want);
	if (strcmp(what, "inside") == 0)
		ck_assert_msg(strcmp(cc, exp != NULL ? exp : "") == 0,
		    "%s: got \"%s\", want \"%s\"", text, cc,
		    exp != NULL ? exp : "");
}

/*
 * The first and last address of network/plen are exp (NULL: unknown) when
 * the network is the database's own (own); they and the addresses just
 * before and after agree with plain libmaxminddb.
 */
static void
edges(const struct geo *g, const MMDB_s *m, const struct sockaddr *first,
    int plen, const char *exp, int own)
{
	struct sockaddr_storage a;
	const char	*in = own ? "inside" : "network";

	memcpy(&a, first, sizeof(a));
	compare_oracle(g, m, (struct sockaddr *)&a, exp, in);
	sa_add((struct sockaddr *)&a, -1);
	compare_oracle(g, m, (struct sockaddr *)&a, NULL, "before");
	memcpy(&a, first, sizeof(a));
	sa_last((struct sockaddr *)&a, plen);
	compare_oracle(g, m, (struct sockaddr *)&a, exp, in);
	sa_add((struct sockaddr *)&a, 1);
	compare_oracle(g, m, (struct sockaddr *)&a, NULL, "after");
}

/*
 * Every row of expected.tsv, except those in absent (networks this
 * database does not have: unknown).  Then the first and last address of
 * the row's network, and the addresses just outside it, against plain
 * libmaxminddb.
 */
static void
check_expected(const char *dbname, int own, const char *const *absent)
{
	struct sockaddr_storage ss;
	struct geo	*g;
	MMDB_s		 m;
	char		 db[1024], tsv[1024], line[512], ip[64], cc[8], rcc[8];
	char		 net[64], *slash;
	size_t		 rows = 0, unknown = 0, i;
	FILE		*f;
	const char	*exp;

	mmdb_path(db, sizeof(db), dbname);
	mmdb_path(tsv, sizeof(tsv), "maxmind-test/" TSV_NAME);
	g = open_ok(db, GEO_COUNTRY);
	ck_assert_int_eq(MMDB_open(db, MMDB_MODE_MMAP, &m), MMDB_SUCCESS);
	ck_assert_str_eq(geo_schema(g), "geoip2");
	ck_assert_int_eq(geo_kind(g), GEO_COUNTRY);
	ck_assert_str_eq(geo_path(g), db);
	ck_assert_uint_gt(geo_build_epoch(g), 1400000000);
	ck_assert_ptr_nonnull(f = fopen(tsv, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		ck_assert_int_eq(sscanf(line, "%63s %7s %7s %63s", ip, cc, rcc,
		    net), 4);
		exp = strcmp(cc, "-") == 0 ? NULL : cc;
		for (i = 0; absent != NULL && absent[i] != NULL; i++)
			if (strcmp(absent[i], ip) == 0)
				exp = NULL;
		expect_cc(g, ip, exp);
		rows++;
		unknown += exp == NULL;

		/* The network's edges and just beyond. */
		ck_assert_ptr_nonnull(slash = strchr(net, '/'));
		*slash = '\0';
		edges(g, &m, sa_of(net, &ss), atoi(slash + 1),
		    own ? exp : NULL, own);
	}
	fclose(f);
	ck_assert_uint_ge(rows, 240);
	ck_assert_uint_ge(unknown, 1);
	MMDB_close(&m);

	/* Not in the database. */
	expect_cc(g, "1.1.1.1", NULL);
	expect_cc(g, "10.0.0.1", NULL);
	expect_cc(g, "127.0.0.1", NULL);
	expect_cc(g, "0.0.0.0", NULL);
	expect_cc(g, "255.255.255.255", NULL);
	expect_cc(g, "::1", NULL);
	expect_cc(g, "::", NULL);
	expect_cc(g, "2001:db8::1", NULL);
	expect_cc(g, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
	/* MaxMind aliases IPv4-mapped and 6to4 to the IPv4 subtree. */
	expect_cc(g, "::ffff:81.2.69.142", "GB");
	expect_cc(g, "2002:5102:458e::1", "GB");
	expect_cc(g, "::81.2.69.142", "GB");
	geo_close(g);
}

START_TEST(geolite2_expected)
{
	check_expected("maxmind-test/GeoLite2-Country-Test.mmdb", 1, NULL);
}
END_TEST

START_TEST(geoip2_expected)
{
	/* Two networks of GeoLite2's test data are not in GeoIP2's. */
	static const char *const absent[] = {
		"214.78.0.1", "2001:480::1", NULL
	};

	check_expected("maxmind-test/GeoIP2-Country-Test.mmdb", 0, absent);
}
END_TEST

START_TEST(maxmind_metadata)
{
	struct geo	*g;
	struct geo_stats st;
	char		 db[1024];

	mmdb_path(db, sizeof(db), "maxmind-test/GeoLite2-Country-Test.mmdb");
	g = open_ok(db, GEO_COUNTRY);
	ck_assert_str_eq(geo_database_type(g), "GeoLite2-Country");
	ck_assert_uint_eq(geo_build_epoch(g), 1770245369);
	geo_stats(g, &st);
	ck_assert_uint_eq(st.ip_version, 6);
	ck_assert_uint_eq(st.nodes, 1505);
	ck_assert_uint_eq(st.unreached, 0);
	ck_assert_uint_gt(st.records, 40);
	ck_assert_uint_lt(st.with_value, st.records);	/* continent only */
	ck_assert_uint_eq(st.bad_values, 0);
	ck_assert_uint_gt(st.memory, 0);
	geo_close(g);

	/* A country database is not an ASN database. */
	open_fails(db, GEO_ASN, ": no record has an AS number (looked for "
	    "autonomous_system_number, traits.autonomous_system_number, asn, "
	    "as_number; database type \"GeoLite2-Country\")");
}
END_TEST

/* The flat iptoasn database. */

START_TEST(iptoasn_flat)
{
	struct geo	*g;
	struct geo_stats st;
	char		 db[1024];

	if (!big_path(db, sizeof(db)))
		return;
	g = open_ok(db, GEO_COUNTRY);
	ck_assert_str_eq(geo_schema(g), "flat");
	ck_assert_str_eq(geo_database_type(g), "country ipvAll");
	geo_stats(g, &st);
	ck_assert_uint_eq(st.nodes, 864344);
	ck_assert_uint_ge(st.records, 200);
	ck_assert_uint_eq(st.with_value, st.records);
	expect_cc(g, "8.8.8.8", "US");
	expect_cc(g, "1.1.1.1", "US");
	expect_cc(g, "9.9.9.9", "US");
	expect_cc(g, "193.0.14.129", "NL");
	expect_cc(g, "202.12.27.33", "JP");
	expect_cc(g, "194.0.0.53", "DE");
	expect_cc(g, "2001:4860:4860::8888", "US");
	expect_cc(g, "2001:7fd::1", "NL");
	expect_cc(g, "2001:dc3::35", "JP");
	expect_cc(g, "10.0.0.1", NULL);
	expect_cc(g, "127.0.0.1", NULL);
	expect_cc(g, "192.0.2.1", NULL);
	expect_cc(g, "0.0.0.1", NULL);
	expect_cc(g, "::1", NULL);
	expect_cc(g, "2001:db8::1", NULL);
	/*
	 * No aliasing in this build: ::ffff:0:0/96 is empty in the tree, but
	 * geo.c looks an IPv4-mapped address up as IPv4.
	 */
	expect_cc(g, "::ffff:8.8.8.8", "US");
	expect_cc(g, "::ffff:10.0.0.1", NULL);
	expect_cc(g, "::8.8.8.8", "US");	/* IPv4 data lives at ::/96 */
	geo_close(g);

	open_fails(db, GEO_ASN, "no record has an AS number");
}
END_TEST

START_TEST(sweep_real)
{
	char	 db[1024];

	/* Small: most probes miss (expected.tsv covers what they hold). */
	mmdb_path(db, sizeof(db), "maxmind-test/GeoLite2-Country-Test.mmdb");
	sweep(db);
	mmdb_path(db, sizeof(db), "maxmind-test/GeoIP2-Country-Test.mmdb");
	sweep(db);
	if (big_path(db, sizeof(db)))
		ck_assert_uint_gt(sweep(db), 40000);
}
END_TEST

/* ASN fixtures. */

static void
check_asn_v4(const struct geo *g)
{
	expect_asn(g, "192.0.2.0", 64500);
	expect_asn(g, "192.0.2.255", 64500);
	expect_asn(g, "192.0.3.0", 0);
	expect_asn(g, "198.51.100.1", 64501);
	expect_asn(g, "198.51.100.127", 64501);
	expect_asn(g, "198.51.100.128", 4200000000u);
	expect_asn(g, "203.0.113.5", 0);	/* AS0: not routed */
	expect_asn(g, "10.2.3.4", 64496);
	expect_asn(g, "10.1.2.3", 64497);
	expect_asn(g, "11.0.0.0", 0);
	expect_asn(g, "0.0.0.0", 0);
	expect_asn(g, "255.255.255.255", 0);
}

static void
check_asn_fixture(const char *name, const char *schema, int v6tree)
{
	struct geo	*g;
	struct geo_stats st;
	char		 db[1024], cc[3];
	const char	*why = NULL;

	fixture(db, sizeof(db), name);
	g = open_ok(db, GEO_ASN);
	ck_assert_str_eq(geo_schema(g), schema);
	ck_assert_int_eq(geo_kind(g), GEO_ASN);
	geo_stats(g, &st);
	ck_assert_uint_eq(st.ip_version, v6tree ? 6 : 4);
	ck_assert_uint_eq(st.unreached, 0);
	ck_assert_uint_eq(st.bad_values, 0);
	check_asn_v4(g);
	if (v6tree) {
		expect_asn(g, "2001:db8::1", 64502);
		expect_asn(g, "2001:db8:1::1", 13335);
		expect_asn(g, "2001:db8:2::1", 64502);
		expect_asn(g, "2001:db9::1", 0);
	} else {
		/* IPv6 in an IPv4-only database: unknown, not an error. */
		expect_asn(g, "2001:db8::1", 0);
		expect_asn(g, "::192.0.2.1", 0);
		/* IPv4-mapped: the IPv4 address. */
		expect_asn(g, "::ffff:192.0.2.1", 64500);
	}
	expect_asn(g, "::1", 0);
	/* An ASN database answers no country question. */
	ck_assert_int_eq(geo_country(g, (const struct sockaddr *)
	    &(struct sockaddr_in){ .sin_family = AF_INET }, cc, &why),
	    GEO_ERROR);
	ck_assert_str_eq(why, "not a country database");
	ck_assert_str_eq(cc, "");
	geo_close(g);

	open_fails(db, GEO_COUNTRY, ": no record has a country code (looked "
	    "for country.iso_code, registered_country.iso_code, country_code, "
	    "country; database type ");
}

START_TEST(asn_layouts)
{
	struct geo	*g;
	char		 db[1024];

	check_asn_fixture("asn-geoip2.mmdb", "geoip2", 1);
	check_asn_fixture("asn-flat.mmdb", "flat", 1);
	check_asn_fixture("asn-geoip2-alias.mmdb", "geoip2", 1);
	check_asn_fixture("asn4-24.mmdb", "geoip2", 0);
	check_asn_fixture("asn4-28.mmdb", "flat", 0);
	check_asn_fixture("asn4-32.mmdb", "geoip2", 0);

	fixture(db, sizeof(db), "asn-geoip2.mmdb");
	g = open_ok(db, GEO_ASN);
	ck_assert_str_eq(geo_database_type(g), "GeoLite2-ASN");
	ck_assert_uint_eq(geo_build_epoch(g), 1700000000);
	/* IPv4-mapped is IPv4 with or without aliasing; 6to4 needs it. */
	expect_asn(g, "::ffff:192.0.2.1", 64500);
	expect_asn(g, "::ffff:198.51.100.129", 4200000000u);
	expect_asn(g, "::192.0.2.1", 64500);
	expect_asn(g, "2002:c000:0201::1", 0);
	geo_close(g);
	fixture(db, sizeof(db), "asn-geoip2-alias.mmdb");
	g = open_ok(db, GEO_ASN);
	expect_asn(g, "::ffff:192.0.2.1", 64500);
	expect_asn(g, "2002:c000:0201::1", 64500);
	geo_close(g);
}
END_TEST

START_TEST(asn_values)
{
	const struct variant *v;
	struct geo_stats st;
	struct geo	*g;
	char		 db[1024], name[64];
	size_t		 i, j;

	for (i = 0; i < sizeof(asn_variants) / sizeof(asn_variants[0]); i++) {
		v = &asn_variants[i];
		snprintf(name, sizeof(name), "%s.mmdb", v->name);
		fixture(db, sizeof(db), name);
		g = open_ok(db, GEO_ASN);
		ck_assert_msg(strcmp(geo_schema(g), v->schema) == 0,
		    "%s: schema %s, want %s", v->name, geo_schema(g),
		    v->schema);
		geo_stats(g, &st);
		ck_assert_msg(st.bad_values == v->bad, "%s: %zu bad, want %zu",
		    v->name, st.bad_values, v->bad);
		for (j = 0; j < 4 && v->addr[j] != NULL; j++)
			expect_asn(g, v->addr[j], v->want[j]);
		geo_close(g);
	}
}
END_TEST

/* Country fixtures. */

START_TEST(country_layouts)
{
	struct geo_stats st;
	struct geo	*g;
	char		 db[1024];
	uint32_t	 asn;
	const char	*why = NULL;

	/* GeoIP2 layout: country, else registered country. */
	fixture(db, sizeof(db), "cc-geoip2.mmdb");
	g = open_ok(db, GEO_COUNTRY);
	ck_assert_str_eq(geo_schema(g), "geoip2");
	expect_cc(g, "192.0.2.1", "GB");
	expect_cc(g, "198.51.100.1", "FR");
	expect_cc(g, "203.0.113.1", "GB");	/* "gb" */
	expect_cc(g, "10.0.0.1", NULL);		/* "GBR" */
	expect_cc(g, "10.0.1.1", "DE");		/* "G1", registered DE */
	expect_cc(g, "10.0.2.1", NULL);		/* continent only */
	expect_cc(g, "10.0.3.1", NULL);		/* "" */
	expect_cc(g, "10.0.4.1", NULL);		/* non-ASCII */
	expect_cc(g, "2001:db8::1", "NZ");
	expect_cc(g, "10.0.5.1", NULL);
	geo_stats(g, &st);
	ck_assert_uint_eq(st.bad_values, 3);	/* GBR, "", non-ASCII */
	/* A country database answers no ASN question. */
	ck_assert_int_eq(geo_asn(g, (const struct sockaddr *)
	    &(struct sockaddr_in){ .sin_family = AF_INET }, &asn, &why),
	    GEO_ERROR);
	ck_assert_str_eq(why, "not an ASN database");
	ck_assert_uint_eq(asn, 0);
	geo_close(g);

	/* Flat layout: country_code; there is no registered country. */
	fixture(db, sizeof(db), "cc-flat.mmdb");
	g = open_ok(db, GEO_COUNTRY);
	ck_assert_str_eq(geo_schema(g), "flat");
	expect_cc(g, "192.0.2.1", "GB");
	expect_cc(g, "198.51.100.1", NULL);
	expect_cc(g, "203.0.113.1", "GB");
	expect_cc(g, "10.0.0.1", NULL);
	expect_cc(g, "10.0.1.1", NULL);
	expect_cc(g, "2001:db8::1", "NZ");
	geo_close(g);

	/* IPinfo: one flat database for both kinds. */
	fixture(db, sizeof(db), "ipinfo.mmdb");
	g = open_ok(db, GEO_COUNTRY);
	ck_assert_str_eq(geo_schema(g), "flat");
	expect_cc(g, "192.0.2.1", "JP");
	expect_cc(g, "198.51.100.1", "US");
	expect_cc(g, "203.0.113.1", NULL);	/* "None" */
	expect_cc(g, "2001:db8::1", "DE");
	geo_stats(g, &st);
	ck_assert_uint_eq(st.bad_values, 1);
	geo_close(g);
	g = open_ok(db, GEO_ASN);
	ck_assert_str_eq(geo_schema(g), "flat");
	expect_asn(g, "192.0.2.1", 2519);
	expect_asn(g, "198.51.100.1", 13335);
	expect_asn(g, "203.0.113.1", 0);	/* "" */
	expect_asn(g, "2001:db8::1", 64500);
	geo_close(g);
}
END_TEST

START_TEST(address_families)
{
	struct sockaddr_storage ss;
	struct geo	*g;
	char		 db[1024], cc[3] = "XX";
	const char	*why = NULL;
	uint8_t		 addr[16] = { 0 };
	uint32_t	 asn = 7;

	mmdb_path(db, sizeof(db), "maxmind-test/GeoLite2-Country-Test.mmdb");
	g = open_ok(db, GEO_COUNTRY);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(geo_country(g, (struct sockaddr *)&ss, cc, &why),
	    GEO_ERROR);
	ck_assert_str_eq(why, "address family not supported");
	ck_assert_str_eq(cc, "");
	why = NULL;
	ck_assert_int_eq(geo_country_addr(g, AF_UNSPEC, addr, cc, &why),
	    GEO_ERROR);
	ck_assert_str_eq(why, "address family not supported");
	/* why may be NULL. */
	ck_assert_int_eq(geo_country_addr(g, AF_UNIX, addr, cc, NULL),
	    GEO_ERROR);
	ck_assert_int_eq(geo_asn_addr(g, AF_UNIX, addr, &asn, NULL),
	    GEO_ERROR);
	ck_assert_uint_eq(asn, 0);
	geo_close(g);
	geo_close(NULL);
}
END_TEST

/* Bad files. */

START_TEST(bad_data_corpus)
{
	/* What stops each file; the four marked structural are sound
	   databases (tree and data decode) with no country or AS data. */
	static const struct {
		const char	*file;
		const char	*want;
	} bad[] = {
		{ "libmaxminddb__libmaxminddb-corrupt-search-tree.mmdb",
		  "corrupt search tree: node 1 (not reachable) points back to "
		  "the root" },
		{ "libmaxminddb__libmaxminddb-deep-array-nesting.mmdb",
		  "bad data record at offset 0: The MaxMind DB file's data "
		  "section contains bad data" },
		{ "libmaxminddb__libmaxminddb-deep-nesting.mmdb",
		  "bad data record at offset 0: The MaxMind DB file's data "
		  "section contains bad data" },
		{ "libmaxminddb__libmaxminddb-empty-array-last-in-"
		  "metadata.mmdb", "no record has" },			/* structural */
		{ "libmaxminddb__libmaxminddb-empty-map-last-in-metadata.mmdb",
		  "no record has" },			/* structural */
		{ "libmaxminddb__libmaxminddb-metadata-marker-only.mmdb",
		  "not a MaxMind DB file (" },
		{ "libmaxminddb__libmaxminddb-offset-integer-overflow.mmdb",
		  "not a MaxMind DB file (" },
		{ "libmaxminddb__libmaxminddb-oversized-array.mmdb",
		  "bad data record at offset 0: " },
		{ "libmaxminddb__libmaxminddb-oversized-map.mmdb",
		  "bad data record at offset 0: " },
		{ "libmaxminddb__libmaxminddb-separator-record-max-left.mmdb",
		  "corrupt search tree: node 0 points outside the data "
		  "section" },
		{ "libmaxminddb__libmaxminddb-separator-record-min-left.mmdb",
		  "corrupt search tree: node 0 points outside the data "
		  "section" },
		{ "libmaxminddb__libmaxminddb-separator-record-min-right.mmdb",
		  "corrupt search tree: node 0 points outside the data "
		  "section" },
		{ "libmaxminddb__libmaxminddb-uint64-max-epoch.mmdb",
		  "no record has" },			/* structural */
		{ "maxminddb-golang__cyclic-data-structure.mmdb",
		  "not a MaxMind DB file (" },
		{ "maxminddb-golang__invalid-bytes-length.mmdb",
		  "not a MaxMind DB file (" },
		{ "maxminddb-golang__invalid-data-record-offset.mmdb",
		  "not a MaxMind DB file (" },
		{ "maxminddb-golang__invalid-map-key-length.mmdb",
		  "not a MaxMind DB file (" },
		{ "maxminddb-golang__invalid-string-length.mmdb",
		  "not a MaxMind DB file (" },
		{ "maxminddb-golang__metadata-is-an-uint128.mmdb",
		  "not a MaxMind DB file (" },
		{ "maxminddb-golang__unexpected-bytes.mmdb",
		  "not a MaxMind DB file (" },
		{ "maxminddb-python__bad-unicode-in-map-key.mmdb",
		  "corrupt search tree: node 2 points outside the data "
		  "section" },
	};
	struct dirent	*de;
	DIR		*d;
	char		 dir[1024], path[2048];
	size_t		 i, n = 0, structural = 0;

	mmdb_path(dir, sizeof(dir), "bad-data");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path_in(path, sizeof(path), dir, bad[i].file);
		open_fails(path, GEO_COUNTRY, bad[i].want);
		open_fails(path, GEO_ASN, bad[i].want);
		structural += strcmp(bad[i].want, "no record has") == 0;
	}
	ck_assert_uint_eq(structural, 3);
	/* Every file in the directory is in the table. */
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strcmp(de->d_name, bad[i].file) == 0)
				break;
		ck_assert_msg(i < sizeof(bad) / sizeof(bad[0]),
		    "%s: not in the test's table", de->d_name);
		n++;
	}
	closedir(d);
	ck_assert_uint_eq(n, 21);
}
END_TEST

START_TEST(not_databases)
{
	char	 path[1024];
	int	 fd;

	snprintf(path, sizeof(path), "%s/does-not-exist.mmdb", tmpdir);
	open_fails(path, GEO_COUNTRY, ": No such file or directory");
	open_fails(tmpdir, GEO_COUNTRY, ": Is a directory");
	open_fails("/dev/null", GEO_COUNTRY, ": not a regular file");

	snprintf(path, sizeof(path), "%s/empty.mmdb", tmpdir);
	ck_assert_int_ne(fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644),
	    -1);
	close(fd);
	open_fails(path, GEO_COUNTRY, ": not a MaxMind DB file (empty file)");

	snprintf(path, sizeof(path), "%s/text.mmdb", tmpdir);
	write_file(path, "192.0.2.0/24 GB\n", 16);
	open_fails(path, GEO_COUNTRY, ": not a MaxMind DB file (");
	open_fails(path, GEO_ASN, ": not a MaxMind DB file (");

	/* Unreadable (root reads anything, so only when not root). */
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(path, 0), 0);
		open_fails(path, GEO_COUNTRY, ": Permission denied");
	}
	unlink(path);
}
END_TEST

/* Find the data section and the node count of a copy in memory. */
static void
layout(const uint8_t *p, size_t len, const char *path, uint32_t *nodes,
    size_t *data, size_t *marker)
{
	MMDB_s	 m;
	const uint8_t *mk;

	ck_assert_int_eq(MMDB_open(path, MMDB_MODE_MMAP, &m), MMDB_SUCCESS);
	ck_assert_uint_eq(m.metadata.record_size, 24);
	*nodes = m.metadata.node_count;
	MMDB_close(&m);
	*data = (size_t)*nodes * 6 + 16;
	mk = memmem(p, len, "\xab\xcd\xefMaxMind.com", 14);
	ck_assert_ptr_nonnull(mk);
	*marker = (size_t)(mk - p);
}

static uint32_t
get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void
put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* Write a patched copy of src and expect geo_open to fail with want. */
static void
patched_fails(const uint8_t *p, size_t len, const char *name,
    const char *want)
{
	char	 path[1024];

	path_in(path, sizeof(path), tmpdir, name);
	write_file(path, p, len);
	open_fails(path, GEO_ASN, want);
	unlink(path);
}

START_TEST(corrupted_here)
{
	MMDB_lookup_result_s r;
	MMDB_s		 m;
	uint8_t		*p;
	char		 db[1024];
	size_t		 len, data, marker;
	uint32_t	 nodes, node, r1, saved;
	int		 gai, err, i;

	fixture(db, sizeof(db), "asn4-24.mmdb");
	p = read_all(db, &len);
	layout(p, len, db, &nodes, &data, &marker);
	saved = get24(p);

	/* Root's left record into the 16-byte separator. */
	put24(p, nodes + 5);
	patched_fails(p, len, "sep.mmdb", "corrupt search tree: node 0 "
	    "points outside the data section");
	/* Past the data section (into the metadata marker). */
	put24(p, (uint32_t)(nodes + 16 + (marker - data)));
	patched_fails(p, len, "past.mmdb", "corrupt search tree: node 0 "
	    "points outside the data section");
	/* Back to the root: a loop. */
	put24(p, 0);
	patched_fails(p, len, "loop.mmdb", "corrupt search tree: node 0 is "
	    "its own ancestor");
	put24(p, saved);

	/* A record whose data does not decode: a pointer past the end. */
	ck_assert_int_eq(MMDB_open(db, MMDB_MODE_MMAP, &m), MMDB_SUCCESS);
	r = MMDB_lookup_string(&m, "192.0.2.1", &gai, &err);
	ck_assert(gai == 0 && err == MMDB_SUCCESS && r.found_entry);
	MMDB_close(&m);
	p[data + r.entry.offset] = 0x38;	/* pointer, 4 bytes follow */
	memset(p + data + r.entry.offset + 1, 0xff, 4);
	patched_fails(p, len, "data.mmdb", "bad data record at offset ");
	free(p);

	/* Truncated: the metadata is gone. */
	p = read_all(db, &len);
	patched_fails(p, len / 2, "half.mmdb", ": not a MaxMind DB file (");
	/*
	 * The search tree claims more nodes than the file holds: the data
	 * section and the end of the tree cut out, the metadata kept.
	 */
	memmove(p + data - 16 - 12, p + marker, len - marker);
	patched_fails(p, data - 16 - 12 + (len - marker), "tree.mmdb",
	    ": not a MaxMind DB file (");
	free(p);

	/*
	 * Deeper than 32 bits: end the all-zeros chain (0.0.0.0/32) at the
	 * first node of the all-ones chain instead of its data.
	 */
	fixture(db, sizeof(db), "deep.mmdb");
	p = read_all(db, &len);
	layout(p, len, db, &nodes, &data, &marker);
	r1 = get24(p + 3);			/* root's right */
	ck_assert_uint_lt(r1, nodes);
	node = 0;
	for (i = 0; i < 31; i++) {
		node = get24(p + (size_t)node * 6);
		ck_assert_uint_lt(node, nodes);
	}
	ck_assert_uint_gt(get24(p + (size_t)node * 6), nodes);
	put24(p + (size_t)node * 6, r1);
	patched_fails(p, len, "deep-patched.mmdb", "corrupt search tree: a "
	    "path is longer than 32 bits");
	free(p);

	/* The unpatched one opens. */
	geo_close(open_ok(db, GEO_ASN));
}
END_TEST

/* Threads. */

struct lookups {
	const struct geo *g;
	uint32_t	 seed;
	size_t		 found;
	int		 mismatch;
};

static void *
lookup_many(void *arg)
{
	struct lookups	*l = arg;
	uint8_t		 a[16];
	uint32_t	 x = 12345, i;
	char		 cc[3], cc1[3];
	enum geo_result	 r, r1;

	for (i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		a[0] = (uint8_t)(x >> 24);
		a[1] = (uint8_t)(x >> 16);
		a[2] = (uint8_t)(x >> 8);
		a[3] = (uint8_t)(x + l->seed);
		r = geo_country_addr(l->g, AF_INET, a, cc, NULL);
		r1 = geo_country_addr(l->g, AF_INET, a, cc1, NULL);
		if (r != r1 || strcmp(cc, cc1) != 0 || r == GEO_ERROR)
			l->mismatch = 1;
		l->found += r == GEO_FOUND;
	}
	return NULL;
}

START_TEST(concurrent)
{
	struct lookups	 l[4];
	pthread_t	 t[4];
	struct geo	*g;
	char		 db[1024];
	int		 i, big;

	/* The small test database holds few of the random addresses. */
	if (!(big = big_path(db, sizeof(db))))
		mmdb_path(db, sizeof(db),
		    "maxmind-test/GeoLite2-Country-Test.mmdb");
	g = open_ok(db, GEO_COUNTRY);
	for (i = 0; i < 4; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].g = g;
		ck_assert_int_eq(pthread_create(&t[i], NULL, lookup_many,
		    &l[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(l[i].mismatch, 0);
		if (big)
			ck_assert_uint_gt(l[i].found, 10000);
		ck_assert_uint_eq(l[i].found, l[0].found);
	}
	geo_close(g);
}
END_TEST

START_TEST(valid_cc)
{
	ck_assert_int_eq(geo_valid_cc("GB"), 1);
	ck_assert_int_eq(geo_valid_cc("gb"), 1);
	ck_assert_int_eq(geo_valid_cc("nZ"), 1);
	ck_assert_int_eq(geo_valid_cc("unknown"), 1);
	ck_assert_int_eq(geo_valid_cc("UNKNOWN"), 1);
	ck_assert_int_eq(geo_valid_cc(""), 0);
	ck_assert_int_eq(geo_valid_cc("G"), 0);
	ck_assert_int_eq(geo_valid_cc("GBR"), 0);
	ck_assert_int_eq(geo_valid_cc("G1"), 0);
	ck_assert_int_eq(geo_valid_cc("1G"), 0);
	ck_assert_int_eq(geo_valid_cc("G "), 0);
	ck_assert_int_eq(geo_valid_cc("@A"), 0);
	ck_assert_int_eq(geo_valid_cc("[A"), 0);
	ck_assert_int_eq(geo_valid_cc("`a"), 0);
	ck_assert_int_eq(geo_valid_cc("{a"), 0);
	ck_assert_int_eq(geo_valid_cc("\xc3\x9f"), 0);
	ck_assert_int_eq(geo_valid_cc("unknow"), 0);
	ck_assert_int_eq(geo_valid_cc("unknowns"), 0);
	ck_assert_str_eq(geo_kind_name(GEO_COUNTRY), "country");
	ck_assert_str_eq(geo_kind_name(GEO_ASN), "asn");
}
END_TEST

static Suite *
geo_suite(void)
{
	Suite	*s = suite_create("geo");
	TCase	*tc;

	tc = tcase_create("real");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, geolite2_expected);
	tcase_add_test(tc, geoip2_expected);
	tcase_add_test(tc, maxmind_metadata);
	tcase_add_test(tc, iptoasn_flat);
	tcase_add_test(tc, sweep_real);
	tcase_add_test(tc, concurrent);
	suite_add_tcase(s, tc);

	tc = tcase_create("fixtures");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, asn_layouts);
	tcase_add_test(tc, asn_values);
	tcase_add_test(tc, country_layouts);
	tcase_add_test(tc, address_families);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_data_corpus);
	tcase_add_test(tc, not_databases);
	tcase_add_test(tc, corrupted_here);
	tcase_add_test(tc, valid_cc);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner		*sr;
	const char	*e;
	char		 cmd[128];
	int		 nfailed;

	e = getenv("SRCDIR");
	snprintf(srcdir, sizeof(srcdir), "%s", e != NULL ? e : ".");
	snprintf(mmdbdir, sizeof(mmdbdir), "%s/tests/data/mmdb", srcdir);
	if ((e = getenv("DNSWARD_TEST_DATA")) != NULL)
		snprintf(bigdir, sizeof(bigdir), "%s/mmdb", e);
	else
		snprintf(bigdir, sizeof(bigdir), "%s/../shared/data/mmdb",
		    srcdir);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_geo.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	have_fixtures = build_fixtures() == 0;
	if (!have_fixtures)
		fprintf(stderr, "check_geo: %s\n", fixture_err);

	sr = srunner_create(geo_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "check_geo: could not remove %s\n", tmpdir);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
