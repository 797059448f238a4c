/*
 * geo.h -- country and autonomous-system lookups in MaxMind DB (mmdb)
 * files, read with libmaxminddb.
 *
 * A database is opened for one kind of lookup, country or ASN, and is
 * verified completely before geo_open() returns: every node of the search
 * tree is read (node numbers within node_count, data pointers within the
 * data section, no loops, no path longer than the address; also for nodes
 * the root does not lead to) and every distinct data record reachable from
 * the root is decoded.  So `dnsward -t`
 * and start-up refuse a corrupt file, and a lookup never meets data that
 * cannot be decoded.  While decoding, the value each record holds for the
 * kind of database (a country code, an AS number) is kept in a small table
 * keyed by the record's offset: a lookup is libmaxminddb's walk down the
 * tree, then one probe in that table; no data is decoded per lookup.
 *
 * Record layouts read (the first key present wins, in this order):
 *
 *   country   "geoip2"  country.iso_code, then registered_country.iso_code
 *                       (GeoIP2/GeoLite2 Country and City, DB-IP Lite)
 *             "flat"    country_code (ip-location-db builds of IPtoASN,
 *                       DB-IP, GeoLite2: {"country_code": "US"}), then a
 *                       top-level string country (IPinfo: {"country": "US"})
 *   ASN       "geoip2"  autonomous_system_number (GeoLite2-ASN, GeoIP2-ISP,
 *                       DB-IP ASN Lite), then traits.autonomous_system_number
 *                       (GeoIP2 Enterprise / Insights-style records)
 *             "flat"    asn (IPinfo: the string "AS13335"; a number or a
 *                       plain decimal string is read too), then as_number
 *                       (ip-location-db's CSV column, kept by mmdb builders)
 *
 * A country value must be two ASCII letters (returned in upper case); an AS
 * number any unsigned integer type or "AS<n>" / "<n>" string in 1..2^32-1.
 * A record without such a value -- no key, or a value of another shape such
 * as "None", "ZZZ", a map, AS 0 -- is "unknown" (GEO_UNKNOWN), and counted
 * in geo_stats().bad_values when the key was there but unusable (AS 0,
 * "not routed" in some databases, is not counted).  A database in which
 * no record has a usable value fails to open, naming the keys it looked
 * for: it is not a database of that kind.
 *
 * Address families: an IPv4 address in an IPv6 database is looked up as
 * libmaxminddb does, at ::a.b.c.d (the ::/96 subtree).  An IPv4-mapped
 * address (::ffff:a.b.c.d) is looked up as the IPv4 address it carries, in
 * every database: a socket connects to it over IPv4, so an AAAA record of
 * that form must meet the same rules as the A record (not every database
 * aliases ::ffff:0:0/96 to its IPv4 data: MaxMind's do, the ip-location-db
 * builds do not).  Other IPv6 forms that embed IPv4 (6to4 2002::/16, Teredo
 * 2001::/32) are looked up as they are: MaxMind aliases them, others may
 * not.  Any other IPv6 address in an IPv4-only database is GEO_UNKNOWN, not
 * an error.
 *
 * The file is mapped (MMDB_MODE_MMAP): replace a database by renaming a new
 * file over it, never by rewriting it in place (a truncated mapping is
 * SIGBUS).  An open database is read-only; lookups are safe from many
 * threads without a lock.
 */
#ifndef DNSWARD_GEO_H
#define DNSWARD_GEO_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

/* What a database is opened for. */
enum geo_kind {
	GEO_COUNTRY = 1,
	GEO_ASN
};

/* The outcome of a lookup. */
enum geo_result {
	GEO_FOUND = 0,		/* the value was filled in */
	GEO_UNKNOWN,		/* not in the database, or the record has no
				   value: the pseudo-country "unknown" */
	GEO_ERROR		/* lookup failed; *why says why */
};

/* What geo_open() found, for `dnsward -t` and the start-up log. */
struct geo_stats {
	uint32_t	 nodes;		/* search tree nodes */
	uint32_t	 unreached;	/* nodes the root does not lead to */
	size_t		 records;	/* distinct data records decoded */
	size_t		 with_value;	/* records with a usable value */
	size_t		 bad_values;	/* records with the key, unusable */
	unsigned	 ip_version;	/* 4 or 6 */
	double		 verify_seconds; /* tree walk and decoding */
	size_t		 memory;	/* bytes of the offset->value table */
};

struct geo;

/*
 * Open and verify the database at path for kind.  Returns NULL with
 * "PATH: why" in err when the file is missing or unreadable, is not a
 * MaxMind DB file ("PATH: not a MaxMind DB file (...)"), has a corrupt
 * search tree or a data record libmaxminddb cannot decode (its error text
 * is in the message), or has no record in a layout of that kind.
 * Caller frees with geo_close().
 */
struct geo	*geo_open(const char *path, enum geo_kind kind, char *err,
		    size_t errsz);

/*
 * The country of an address: AF_INET or AF_INET6 sockaddr.  GEO_FOUND
 * fills cc with the upper-case ISO 3166 code (NUL-terminated); otherwise
 * cc is "".  GEO_ERROR sets *why to a static text (libmaxminddb's
 * MMDB_strerror() or ours); why may be NULL.  A database opened for ASN
 * lookups is GEO_ERROR.
 */
enum geo_result	 geo_country(const struct geo *,
		    const struct sockaddr *sa, char cc[3], const char **why);

/* The same for family af (AF_INET or AF_INET6) and 4 or 16 address bytes. */
enum geo_result	 geo_country_addr(const struct geo *, int af,
		    const uint8_t *addr, char cc[3], const char **why);

/* The AS number of an address: as geo_country(); *asn is 0 unless found. */
enum geo_result	 geo_asn(const struct geo *, const struct sockaddr *sa,
		    uint32_t *asn, const char **why);
enum geo_result	 geo_asn_addr(const struct geo *, int af,
		    const uint8_t *addr, uint32_t *asn, const char **why);

/* "geoip2" or "flat" (see above); "mixed" when records of both occur. */
const char	*geo_schema(const struct geo *);

/* Metadata: build time (seconds since the epoch) and database_type. */
uint64_t	 geo_build_epoch(const struct geo *);
const char	*geo_database_type(const struct geo *);

/* The kind it was opened for, the path it was opened from. */
enum geo_kind	 geo_kind(const struct geo *);
const char	*geo_path(const struct geo *);

void		 geo_stats(const struct geo *, struct geo_stats *);

/* Close; accepts NULL. */
void		 geo_close(struct geo *);

/*
 * 1 if s is a country code a rule may name: two ASCII letters in either
 * case, or "unknown" (any case); else 0.
 */
int		 geo_valid_cc(const char *s);

/* "country" or "asn". */
const char	*geo_kind_name(enum geo_kind);

#endif /* DNSWARD_GEO_H */
