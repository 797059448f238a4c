/*
 * wire.h -- bounds-checked reading and editing of DNS messages in wire form.
 *
 * The hot path (every query and every upstream reply) works on the packet
 * bytes directly with these helpers instead of building ldns objects, so a
 * query costs no heap allocation.  ldns is used where a full parse is worth
 * its allocations: formatting answers in the log writer, zone files, tests.
 *
 * Nothing here trusts a length or count from the wire: every read is checked
 * against the buffer end, compression pointers must point backwards and are
 * followed at most a bounded number of times, and names are at most 255
 * bytes.  Functions return -1 on any malformation.
 */
#ifndef DNSWARD_WIRE_H
#define DNSWARD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN	12
#define DNS_MAX_NAME	255
#define DNS_MAX_UDP	65535

/* Header accessors (p points at a buffer of at least DNS_HDR_LEN). */
#define DNS_ID(p)	((uint16_t)((p)[0] << 8 | (p)[1]))
#define DNS_QR(p)	(((p)[2] >> 7) & 1)
#define DNS_OPCODE(p)	(((p)[2] >> 3) & 0xf)
#define DNS_AA(p)	(((p)[2] >> 2) & 1)
#define DNS_TC(p)	(((p)[2] >> 1) & 1)
#define DNS_RD(p)	((p)[2] & 1)
#define DNS_RA(p)	(((p)[3] >> 7) & 1)
#define DNS_AD(p)	(((p)[3] >> 5) & 1)
#define DNS_CD(p)	(((p)[3] >> 4) & 1)
#define DNS_RCODE(p)	((p)[3] & 0xf)
#define DNS_QDCOUNT(p)	((uint16_t)((p)[4] << 8 | (p)[5]))
#define DNS_ANCOUNT(p)	((uint16_t)((p)[6] << 8 | (p)[7]))
#define DNS_NSCOUNT(p)	((uint16_t)((p)[8] << 8 | (p)[9]))
#define DNS_ARCOUNT(p)	((uint16_t)((p)[10] << 8 | (p)[11]))

#define DNS_OPCODE_QUERY	0
#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_FORMERR	1
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3
#define DNS_RCODE_NOTIMP	4
#define DNS_RCODE_REFUSED	5
#define DNS_RCODE_BADVERS	16	/* extended: needs OPT */

#define DNS_TYPE_A	1
#define DNS_TYPE_NS	2
#define DNS_TYPE_CNAME	5
#define DNS_TYPE_SOA	6
#define DNS_TYPE_PTR	12
#define DNS_TYPE_AAAA	28
#define DNS_TYPE_DNAME	39
#define DNS_TYPE_OPT	41
#define DNS_TYPE_IXFR	251
#define DNS_TYPE_AXFR	252
#define DNS_TYPE_ANY	255
#define DNS_CLASS_IN	1

#define EDNS_OPT_EDE	15		/* RFC 8914 Extended DNS Error */

static inline uint16_t
wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * Skip the (possibly compressed) name at pkt[*pos]; on success *pos is just
 * past it.  The name is not decoded.  Returns 0 or -1.
 */
int	wire_skip_name(const uint8_t *pkt, size_t len, size_t *pos);

/*
 * Decode the (possibly compressed) name at pkt[*pos] into out (uncompressed
 * wire form, at most DNS_MAX_NAME bytes; *outlen set).  *pos is moved past
 * the name as it appears at that place.  Returns 0 or -1.
 */
int	wire_read_name(const uint8_t *pkt, size_t len, size_t *pos,
	    uint8_t *out, size_t *outlen);

/*
 * Check that the uncompressed wire name a[0..alen) equals b[0..blen),
 * ASCII case-insensitively.  1 if equal.
 */
int	wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b,
	    size_t blen);

/* Lower-case (ASCII) an uncompressed wire name in place. */
void	wire_name_lower(uint8_t *name, size_t len);

/*
 * Write the presentation form of the uncompressed wire name into out, with
 * a trailing dot ("." for the root).  Characters other than [A-Za-z0-9-_]
 * that are printable are backslash-escaped when special (. \ " ; ( ) @ $
 * and space), other bytes become \DDD.  Returns the length the text needs
 * (not counting NUL); writes at most outsz-1 and NUL-terminates.  The
 * longest output for a 255-byte name is 4 * 255 + 1 bytes.
 */
size_t	wire_name_to_str(const uint8_t *name, size_t len, char *out,
	    size_t outsz);

#define WIRE_NAME_STRLEN	(4 * DNS_MAX_NAME + 2)

/*
 * Skip one resource record at pkt[*pos] (name, type, class, ttl, rdlength,
 * rdata).  If type/rdpos/rdlen are non-NULL they receive the RR's type, the
 * offset of its rdata and its length.  Returns 0 or -1.
 */
int	wire_skip_rr(const uint8_t *pkt, size_t len, size_t *pos,
	    uint16_t *type, size_t *rdpos, uint16_t *rdlen);

/* A parsed question (one entry of the question section). */
struct wire_question {
	uint8_t		name[DNS_MAX_NAME];	/* uncompressed, as sent */
	size_t		namelen;
	uint16_t	qtype;
	uint16_t	qclass;
	size_t		end;		/* offset just past the question */
};

/* Parse the first question at DNS_HDR_LEN.  Returns 0 or -1. */
int	wire_question(const uint8_t *pkt, size_t len,
	    struct wire_question *q);

/* What the OPT record of a message says (RFC 6891). */
struct wire_edns {
	int		present;
	uint16_t	udp_size;
	uint8_t		ext_rcode;	/* upper 8 bits of the rcode */
	uint8_t		version;
	int		do_bit;
	size_t		rr_start;	/* offset of the OPT RR */
	size_t		rr_end;		/* offset just past it */
	size_t		opt_start;	/* offset of its options (rdata) */
	uint16_t	opt_len;
};

/*
 * Walk the whole message after the question section: check that every
 * record parses and that the message has no trailing garbage, and find the
 * OPT record.  More than one OPT, an OPT outside the additional section or
 * with a non-root owner is a malformation (-1).  qend is the offset just
 * past the question section.  Returns 0 or -1.
 */
int	wire_scan(const uint8_t *pkt, size_t len, size_t qend,
	    struct wire_edns *edns);

/*
 * Writers.  The caller has checked that out has room: a question needs
 * namelen + 4 bytes, an OPT header WIRE_OPT_LEN.  Each returns the offset
 * just past what it wrote.
 */
size_t	wire_put_question(uint8_t *out, size_t n, const uint8_t *name,
	    size_t namelen, uint16_t qtype, uint16_t qclass);

#define WIRE_OPT_LEN	11
/* An OPT RR (root owner) whose rdata of rdlen bytes the caller appends. */
size_t	wire_put_opt(uint8_t *out, size_t n, uint16_t udp_size,
	    uint8_t ext_rcode, int do_bit, uint16_t rdlen);

/*
 * The mnemonic of an RR type ("A", "MX"), or "TYPEnnn" written into buf
 * (at least 16 bytes) for types without one.  No allocation.
 */
const char *wire_type_name(uint16_t type, char *buf, size_t bufsz);

#endif /* DNSWARD_WIRE_H */
