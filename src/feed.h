/*
 * feed.h -- named domain lists loaded from files, compiled into a compact
 * immutable set matched in O(labels).
 *
 * Formats and their match semantics (shared/DESIGN.md "Policy semantics"):
 *   plain    one name per line; matches the name and every name below it
 *            (feed `match: subdomains`, the default) or the name only
 *            (`match: exact`).  "*.name" lines match names below only.
 *   hosts    "0.0.0.0 a.example b.example" (any address; the address is
 *            ignored): each name matches exactly.
 *   adblock  "||name^" matches the name and below; "@@||name^" is an
 *            exception: the name and below do not match this feed.
 *            Other AdBlock syntax (paths, options, cosmetic rules) is a
 *            bad line.
 *   rpz      an RPZ zone (RFC-draft "DNS Response Policy Zones"): QNAME
 *            triggers "name" (exact) and "*.name" (below only), relative to
 *            the zone origin; actions CNAME . (NXDOMAIN), CNAME *. (NODATA),
 *            CNAME rpz-passthru. (allow), CNAME rpz-drop. (drop), other
 *            CNAME / A / AAAA records (override with that local data).
 *            SOA and NS at the apex are skipped; other triggers (rpz-ip,
 *            rpz-nsdname, ...) are bad lines.
 *
 * When several entries of one feed match a name the most specific wins:
 * an entry for the name itself, then the nearest ancestor.  So an
 * exception or an exact entry for a.b.example beats "*.b.example".
 *
 * Hygiene: comments (# and ! for adblock, ; for rpz), blank lines, CRLF,
 * a UTF-8 BOM, upper case and trailing dots are accepted; duplicates are
 * merged (the first one wins); over-long names or labels, empty labels and
 * characters outside letters, digits, '-', '_' (and '*' as a whole first
 * label) are bad lines.  A bad line is counted and reported as
 * "FILE:LINE: why" (the first FEED_REPORT_MAX of them; then only counted);
 * the rest of the feed loads.
 */
#ifndef DNSWARD_FEED_H
#define DNSWARD_FEED_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

#define FEED_REPORT_MAX	10

/* What a matching entry says. */
enum feed_action {
	FEED_LISTED = 0,	/* on the list: the rule decides */
	FEED_EXCEPTION,		/* adblock @@: not on the list */
	FEED_NXDOMAIN,		/* rpz CNAME . */
	FEED_NODATA,		/* rpz CNAME *. */
	FEED_PASSTHRU,		/* rpz CNAME rpz-passthru. */
	FEED_DROP,		/* rpz CNAME rpz-drop. */
	FEED_OVERRIDE		/* rpz local data */
};

/* Which names an entry covers. */
enum feed_scope {
	FEED_SCOPE_EXACT = 1,	/* the name itself */
	FEED_SCOPE_BELOW = 2,	/* names strictly below it */
	FEED_SCOPE_BOTH = 3
};

/* One record of RPZ local data (an override). */
struct feed_rr {
	uint16_t	 type;		/* A, AAAA or CNAME */
	uint32_t	 ttl;
	uint16_t	 rdlen;
	const uint8_t	*rdata;		/* wire form; CNAME: uncompressed name */
};

/* The result of a lookup. */
struct feed_hit {
	size_t		 offset;	/* matched entry = name + offset */
	enum feed_scope	 scope;		/* of the matching entry */
	enum feed_action action;
	const struct feed_rr *rrs;	/* FEED_OVERRIDE: its records */
	size_t		 nrrs;
	uint32_t	 line;		/* line in the file, if tracked (else 0) */
};

/* What matched an address: a prefix of a format: ip feed (FEED_LISTED)
 * or an RPZ rpz-ip trigger (its CNAME action). */
struct feed_ip_hit {
	enum feed_action action;
	int		 af;		/* of the prefix */
	uint8_t		 prefix[16];	/* host bits zero */
	unsigned	 plen;
	uint32_t	 line;		/* in the file */
};

/* What identifies a version of a feed file (for change detection). */
struct feed_file {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	struct timespec	 ctime;
};

struct feed_stats {
	size_t		 entries;	/* distinct entries loaded */
	size_t		 lines;		/* lines read */
	size_t		 errors;	/* bad lines */
	size_t		 duplicates;	/* lines repeating an entry */
	enum feed_format format;	/* detected or configured */
	double		 load_seconds;
	size_t		 memory;	/* bytes held by the compiled set */
	struct timespec	 loaded_at;	/* CLOCK_REALTIME, load done */
	struct feed_file file;		/* the file as it was read */
	uint8_t		 sha256[32];	/* of the bytes read */
};

struct feed;

/* Called with "FILE:LINE: why" for each reported bad line. */
typedef void (*feed_report_fn)(void *arg, const char *msg);

/*
 * Load the feed described by fc.  track_lines keeps each entry's line
 * number (4 bytes an entry more; for --explain).  Returns NULL when the
 * file cannot be read at all, with "FILE: why" in err; bad lines do not
 * fail the load.  *st is filled in either case (as far as it got).
 */
struct feed	*feed_load(const struct config_feed *fc, int track_lines,
		    struct feed_stats *st, feed_report_fn report, void *arg,
		    char *err, size_t errsz);

/*
 * Look up an uncompressed, lower-case wire name.  Returns 1 and fills
 * *hit for the most specific matching entry (which may be an exception:
 * the caller treats FEED_EXCEPTION as "not listed"), 0 when none matches.
 * Costs one hash probe per label; no allocation; safe from many threads.
 */
int		 feed_lookup(const struct feed *, const uint8_t *name,
		    size_t namelen, struct feed_hit *hit);

/* The id from configuration. */
/*
 * Longest-prefix match of an address (af AF_INET: 4 bytes, AF_INET6: 16;
 * an IPv4-mapped IPv6 address also matches IPv4 prefixes) against the
 * feed's addresses.  1 and *hit, or 0.
 */
int		 feed_lookup_ip(const struct feed *, int af,
		    const uint8_t *addr, struct feed_ip_hit *hit);

/* Does the feed hold addresses (format: ip, or RPZ rpz-ip triggers)? */
int		 feed_has_addresses(const struct feed *);

/* The feed's format as read (FEED_AUTO resolved). */
enum feed_format feed_format(const struct feed *);

const char	*feed_id(const struct feed *);

/*
 * Feeds are reference counted, so that a policy built after a refresh of
 * one feed shares the others with the policy before it.  feed_load()
 * returns one reference; feed_ref() adds one; feed_free() drops one and
 * frees the feed with the last (accepts NULL).
 */
struct feed	*feed_ref(struct feed *);
void		 feed_free(struct feed *);

/* What the load counted, with the file's identity and hash. */
const struct feed_stats *feed_get_stats(const struct feed *);

/* The identity of the file at path now; 0, or -1 (errno set). */
int		 feed_file_stat(const char *path, struct feed_file *);
int		 feed_file_equal(const struct feed_file *,
		    const struct feed_file *);

/* The configuration f was loaded with is the same as fc's (path, format,
 * match, id)? */
int		 feed_same_config(const struct feed *, const struct config_feed *);

/* sha256 as 64 hex digits and a NUL into out[65]. */
void		 feed_sha256_hex(const struct feed_stats *, char out[65]);

/* Name of a format ("plain", "hosts", "rpz", "adblock", "auto"). */
const char	*feed_format_name(enum feed_format);

#endif /* DNSWARD_FEED_H */
