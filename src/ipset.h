/*
 * ipset.h -- a compact immutable set of IPv4 and IPv6 prefixes, matched by
 * longest prefix; and the parsers of the lines of an IP feed.
 *
 * The compiled form of an IP feed (`format: ip`, RPZ rpz-ip triggers),
 * matched against every A and AAAA address of an answer.  Each prefix
 * carries an opaque 32-bit value chosen by the caller (feed.c stores which
 * entry it is: its action and line).
 *
 * Structure.  Per address family, the prefixes are cut into the ranges of
 * addresses that have the same most specific prefix (nesting resolved
 * once, when the set is built): a sorted array of range starts, and for
 * each start the value and prefix length of its owner (or "none", for the
 * gaps between prefixes).  A lookup finds the last start at or below the
 * address: a table indexed by the address's leading bits narrows the
 * binary search to a few starts in one or two cache lines.  Each prefix
 * adds at most two starts, so the set holds at most 19 bytes per IPv4
 * prefix (4-byte start and 5 bytes of owner, twice, and at most 1 byte of
 * index) and 44 per IPv6 prefix (a 16-byte start, 2 bytes of index),
 * whatever the nesting.  The matching prefix is the address masked to the
 * owner's length.
 *
 * IPv4-mapped IPv6 (::ffff:0:0/96).  One address has one answer, whatever
 * record carries it: an IPv6 prefix inside ::ffff:0:0/96 is stored as the
 * IPv4 prefix it maps (::ffff:192.0.2.0/120 is 192.0.2.0/24, and a
 * duplicate of it), so it matches A records; and an AAAA record holding
 * ::ffff:a.b.c.d is matched against the IPv4 prefixes first (any IPv4
 * match is at least as specific as the /96 it sits in), then against the
 * IPv6 ones.  This is how BIND's rpz-ip tree treats them.  The other way
 * round is deliberately not done: an A record is matched against IPv4
 * prefixes only, so that a short IPv6 prefix (::/0, ::/8) never blocks
 * IPv4 answers.
 *
 * Building: ipset_add() each prefix into a builder (duplicates are found
 * at once, the first value wins), then ipset_build() sorts, sweeps and
 * compacts.  A built set is never modified: lookups from many threads
 * need no lock.
 */
#ifndef DNSWARD_IPSET_H
#define DNSWARD_IPSET_H

#include <stddef.h>
#include <stdint.h>

/* What ipset_add() did. */
enum ipset_add {
	IPSET_NEW = 0,		/* a new prefix */
	IPSET_DUP,		/* there already: unchanged, first wins */
	IPSET_ERR_MEM,		/* out of memory, or 2^31 prefixes */
	IPSET_ERR_INVAL		/* not AF_INET/AF_INET6, plen too long */
};

/* Room for a reason from the parsers; longer ones are truncated. */
#define IPSET_WHYSZ	160

/* Room for ipset_format()'s "addr/plen". */
#define IPSET_STRLEN	(46 + 4)

/* A prefix found by ipset_lookup(). */
struct ipset_match {
	int		 af;		/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* the prefix, host bits zero (the
					   first 4 bytes for AF_INET) */
	unsigned	 plen;
	uint32_t	 value;		/* as given to ipset_add() */
};

/* What a built set holds, per family. */
struct ipset_stats {
	size_t		 v4, v6;	/* prefixes */
	size_t		 v4_ranges, v6_ranges; /* range starts stored */
	size_t		 v4_bytes, v6_bytes; /* bytes, with the index */
};

struct ipset_builder;
struct ipset;

/* An empty builder; NULL when out of memory. */
struct ipset_builder *ipset_builder_new(void);

/*
 * Add the prefix addr/plen (4 bytes for AF_INET, 16 for AF_INET6) with a
 * value.  Host bits beyond plen are ignored (cleared): the parsers below
 * reject them, so a caller that parses first never has any.  A prefix
 * inside ::ffff:0:0/96 is added as the IPv4 prefix it maps (see above).
 * Adding a prefix again changes nothing and returns IPSET_DUP.
 */
enum ipset_add	 ipset_add(struct ipset_builder *, int af,
		    const uint8_t *addr, unsigned plen, uint32_t value);

/*
 * The value of a prefix already added, for a caller that merges
 * duplicates (RPZ local data: several records for one trigger).  Returns
 * 1 and sets *value, or 0 when the prefix is not there.
 */
int		 ipset_builder_get(const struct ipset_builder *, int af,
		    const uint8_t *addr, unsigned plen, uint32_t *value);

/* Distinct prefixes added so far. */
size_t		 ipset_builder_count(const struct ipset_builder *);

/* Free an unbuilt builder; accepts NULL. */
void		 ipset_builder_free(struct ipset_builder *);

/*
 * Compile the prefixes into the immutable set.  Consumes b whatever the
 * result; NULL when out of memory (or b is NULL).  Caller frees with
 * ipset_free().  A builder holds a 12-byte record a prefix (IPv6: 24),
 * with up to as much again of growth slack, and an 8-byte hash slot a
 * prefix at 40..75 % load; building frees the hash, then sorts (a buffer
 * the size of the records) and sweeps the records into the set.  The
 * peak is about 37 bytes a prefix for bench/ipset-load's million.
 */
struct ipset	*ipset_build(struct ipset_builder *b);

/*
 * Find the longest prefix holding addr (4 bytes for AF_INET, 16 for
 * AF_INET6).  Returns 1 and fills *m, or 0.  For an IPv4-mapped IPv6
 * address that matches an IPv4 prefix, m->af is AF_INET and m->addr the
 * IPv4 prefix.  Accepts a NULL set (no match).  No allocation; O(log
 * ranges per bucket), about four cache misses on a cold set.
 */
int		 ipset_lookup(const struct ipset *, int af,
		    const uint8_t *addr, struct ipset_match *m);

/* Prefixes held (after duplicates and mapped-address folding). */
size_t		 ipset_count(const struct ipset *);

/* Bytes held: the one mapping (page-rounded) and the header. */
size_t		 ipset_memory(const struct ipset *);

/* What the set holds, per family. */
void		 ipset_stats(const struct ipset *, struct ipset_stats *);

/* Free; accepts NULL. */
void		 ipset_free(struct ipset *);

/*
 * "192.0.2.0/24" or "2001:db8::/32" into buf (IPSET_STRLEN bytes is
 * enough); "?" for an unknown family.  Returns buf.
 */
char		*ipset_format(int af, const uint8_t *addr, unsigned plen,
		    char *buf, size_t len);

/*
 * The parsers.  Pure functions: they read at most len bytes of s (no NUL
 * needed, any byte accepted), write the address family, the prefix (16
 * bytes of room; 4 used for AF_INET) and its length, or on error a reason
 * into why (whysz bytes, IPSET_WHYSZ is enough; may be NULL) that quotes
 * the offending text with unprintable bytes shown as '?'.  On error the
 * outputs other than why and errcol are unspecified.
 */

/*
 * One address or prefix: "192.0.2.1" (= /32), "192.0.2.0/24",
 * "2001:db8::1" (= /128), "2001:db8::/32"; prefix lengths 0..32 and
 * 0..128.  Returns 0, or -1 with the reason and in *errcol the column of
 * the offending text (counting from 1; may be NULL).  Errors: a bad
 * address (column 1), a missing or out-of-range prefix length (the column
 * after the '/'), anything after the address or prefix length (its
 * column), host bits set (column 1; "192.0.2.1/24: host bits set
 * (192.0.2.0/24?)").
 */
int		 ipset_parse_text(const char *s, size_t len, int *af,
		    uint8_t addr[16], unsigned *plen, size_t *errcol,
		    char *why, size_t whysz);

/*
 * One line of a `format: ip` feed: optional blanks, one address or prefix
 * as above, optional blanks, and an optional comment starting with '#' or
 * ';' (a comment may also be the whole line).  A line may end in "\n" or
 * "\r\n" or neither.  Returns 1 for a prefix, 0 for a blank or comment
 * line, -1 for an error with its column in *errcol (counting from 1, in
 * line), e.g. a second token: "unexpected \"x\" after the address".
 * A UTF-8 byte order mark is not this function's business: the loader
 * skips it at the start of the file.
 */
int		 ipset_parse_line(const char *line, size_t len, int *af,
		    uint8_t addr[16], unsigned *plen, size_t *errcol,
		    char *why, size_t whysz);

/*
 * The owner name of an RPZ rpz-ip trigger, relative to the zone origin
 * and without its final "rpz-ip" label, as text (draft-vixie-dnsop-dns-
 * rpz, as BIND and Unbound read it):
 *	IPv4  PLEN.D.C.B.A  A.B.C.D/PLEN: exactly four decimal octets,
 *			    PLEN 1..32 ("24.0.2.0.192" = 192.0.2.0/24)
 *	IPv6  PLEN.W8...W1  W1:...:W8/PLEN: 16-bit groups in hex, the
 *			    last group first, PLEN 1..128; one "zz" may
 *			    stand for the longest run of zero groups (at
 *			    least one): "128.1.zz.db8.2001" =
 *			    2001:db8::1/128, "48.zz.1.db8.2001" =
 *			    2001:db8:1::/48
 * Four labels after PLEN with no "zz" are IPv4.  Labels are case-
 * insensitive; host bits must be zero.  Returns 0, or -1 with the reason.
 */
int		 ipset_parse_rpz_owner(const char *s, size_t len, int *af,
		    uint8_t addr[16], unsigned *plen, char *why, size_t whysz);

/*
 * The same from the wire form: the labels of the owner name (length
 * bytes and characters, without the "rpz-ip" label, the origin and the
 * root), e.g. "\x02" "32" "\x01" "4" "\x01" "3" "\x01" "2" "\x01" "1".
 * Every length is checked against len; a label holding anything but
 * letters and digits is an error.
 */
int		 ipset_parse_rpz_ip(const uint8_t *labels, size_t len,
		    int *af, uint8_t addr[16], unsigned *plen, char *why,
		    size_t whysz);

#endif /* DNSWARD_IPSET_H */
