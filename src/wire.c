/*
 * wire.c -- bounds-checked reading and editing of DNS messages in wire form.
 *
 * See wire.h.  Every function here takes the packet and its length and
 * checks each byte it reads against that length; nothing is trusted.
 */
#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "wire.h"

/* A name has at most 127 labels, so more jumps than that is a loop. */
#define MAX_POINTERS	128

int
wire_read_name(const uint8_t *pkt, size_t len, size_t *pos, uint8_t *out,
    size_t *outlen)
{
	size_t	 p = *pos, end = 0, n = 0;
	int	 jumps = 0, jumped = 0;

	for (;;) {
		uint8_t	 c;

		if (p >= len)
			return -1;
		c = pkt[p];
		if ((c & 0xc0) == 0xc0) {
			size_t	 target;

			if (p + 1 >= len || ++jumps > MAX_POINTERS)
				return -1;
			target = (size_t)(c & 0x3f) << 8 | pkt[p + 1];
			/* Pointers must go backwards: no forward refs, no loops. */
			if (target >= p)
				return -1;
			if (!jumped)
				end = p + 2;
			jumped = 1;
			p = target;
			continue;
		}
		if ((c & 0xc0) != 0)	/* 0x40, 0x80: obsolete/unknown */
			return -1;
		if (c > len - p - 1)
			return -1;
		if (n + c + 1 > DNS_MAX_NAME)
			return -1;
		if (out != NULL)
			memcpy(out + n, pkt + p, (size_t)c + 1);
		n += (size_t)c + 1;
		p += (size_t)c + 1;
		if (c == 0)
			break;
	}
	*pos = jumped ? end : p;
	if (outlen != NULL)
		*outlen = n;
	return 0;
}

int
wire_skip_name(const uint8_t *pkt, size_t len, size_t *pos)
{
	return wire_read_name(pkt, len, pos, NULL, NULL);
}

int
wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t	 i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++) {
		uint8_t	 x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

void
wire_name_lower(uint8_t *name, size_t len)
{
	size_t	 i = 0;

	/* Walk labels so length bytes are never altered. */
	while (i < len && name[i] != 0) {
		size_t	 l = name[i], j;

		for (j = i + 1; j <= i + l && j < len; j++)
			if (name[j] >= 'A' && name[j] <= 'Z')
				name[j] += 'a' - 'A';
		i += l + 1;
	}
}

static size_t
name_put(char *out, size_t outsz, size_t n, const char *s, size_t slen)
{
	size_t	 i;

	for (i = 0; i < slen; i++, n++)
		if (n + 1 < outsz)
			out[n] = s[i];
	return n;
}

size_t
wire_name_to_str(const uint8_t *name, size_t len, char *out, size_t outsz)
{
	size_t	 i = 0, n = 0;

	if (len == 0 || name[0] == 0)
		n = name_put(out, outsz, n, ".", 1);
	while (i < len && name[i] != 0) {
		size_t	 l = name[i], j;

		for (j = i + 1; j <= i + l && j < len; j++) {
			uint8_t	 c = name[j];
			char	 esc[5];

			/* ASCII ranges, not isalnum(): no locale may widen them. */
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    c == '*' || c == '/')
				n = name_put(out, outsz, n, (char *)&c, 1);
			else if (strchr(".\\\";()@$ ", c) != NULL && c != 0) {
				esc[0] = '\\';
				esc[1] = (char)c;
				n = name_put(out, outsz, n, esc, 2);
			} else if (c > 0x20 && c < 0x7f)
				n = name_put(out, outsz, n, (char *)&c, 1);
			else {
				snprintf(esc, sizeof(esc), "\\%03u", c);
				n = name_put(out, outsz, n, esc, 4);
			}
		}
		n = name_put(out, outsz, n, ".", 1);
		i += l + 1;
	}
	if (outsz > 0)
		out[n < outsz ? n : outsz - 1] = '\0';
	return n;
}

int
wire_skip_rr(const uint8_t *pkt, size_t len, size_t *pos, uint16_t *type,
    size_t *rdpos, uint16_t *rdlen)
{
	size_t	 p = *pos;
	uint16_t rl;

	if (wire_skip_name(pkt, len, &p) == -1)
		return -1;
	if (len - p < 10)
		return -1;
	rl = wire_get16(pkt + p + 8);
	if (len - p - 10 < rl)
		return -1;
	if (type != NULL)
		*type = wire_get16(pkt + p);
	if (rdpos != NULL)
		*rdpos = p + 10;
	if (rdlen != NULL)
		*rdlen = rl;
	*pos = p + 10 + rl;
	return 0;
}

int
wire_question(const uint8_t *pkt, size_t len, struct wire_question *q)
{
	size_t	 p = DNS_HDR_LEN;

	if (len < DNS_HDR_LEN || DNS_QDCOUNT(pkt) < 1)
		return -1;
	if (wire_read_name(pkt, len, &p, q->name, &q->namelen) == -1)
		return -1;
	if (len - p < 4)
		return -1;
	q->qtype = wire_get16(pkt + p);
	q->qclass = wire_get16(pkt + p + 2);
	q->end = p + 4;
	return 0;
}

static int
scan_opt(const uint8_t *pkt, size_t start, size_t end, size_t rdpos,
    uint16_t rdlen, struct wire_edns *e)
{
	const uint8_t	*rr = pkt + start;

	/* The OPT owner is the root: a single zero byte. */
	if (rr[0] != 0 || e->present)
		return -1;
	e->present = 1;
	e->udp_size = wire_get16(rr + 3);
	e->ext_rcode = rr[5];
	e->version = rr[6];
	e->do_bit = (rr[7] & 0x80) != 0;
	e->rr_start = start;
	e->rr_end = end;
	e->opt_start = rdpos;
	e->opt_len = rdlen;
	return 0;
}

int
wire_scan(const uint8_t *pkt, size_t len, size_t qend, struct wire_edns *e)
{
	size_t	 p = qend;
	unsigned i, an, ns, ar;

	memset(e, 0, sizeof(*e));
	if (len < DNS_HDR_LEN)
		return -1;
	/* Further questions (QDCOUNT > 1) are skipped as well. */
	for (i = 1; i < DNS_QDCOUNT(pkt); i++) {
		if (wire_skip_name(pkt, len, &p) == -1 || len - p < 4)
			return -1;
		p += 4;
	}
	an = DNS_ANCOUNT(pkt);
	ns = DNS_NSCOUNT(pkt);
	ar = DNS_ARCOUNT(pkt);
	for (i = 0; i < an + ns + ar; i++) {
		size_t	 start = p, rdpos;
		uint16_t type, rdlen;

		if (wire_skip_rr(pkt, len, &p, &type, &rdpos, &rdlen) == -1)
			return -1;
		if (type != DNS_TYPE_OPT)
			continue;
		if (i < an + ns)
			return -1;
		if (scan_opt(pkt, start, p, rdpos, rdlen, e) == -1)
			return -1;
	}
	return p == len ? 0 : -1;
}

size_t
wire_put_question(uint8_t *out, size_t n, const uint8_t *name,
    size_t namelen, uint16_t qtype, uint16_t qclass)
{
	memcpy(out + n, name, namelen);
	n += namelen;
	wire_put16(out + n, qtype);
	wire_put16(out + n + 2, qclass);
	return n + 4;
}

size_t
wire_put_opt(uint8_t *out, size_t n, uint16_t udp_size, uint8_t ext_rcode,
    int do_bit, uint16_t rdlen)
{
	out[n] = 0;				/* root owner */
	wire_put16(out + n + 1, DNS_TYPE_OPT);
	wire_put16(out + n + 3, udp_size);	/* CLASS: payload size */
	out[n + 5] = ext_rcode;			/* TTL: ext rcode, version, */
	out[n + 6] = 0;
	out[n + 7] = do_bit ? 0x80 : 0;		/* DO, Z */
	out[n + 8] = 0;
	wire_put16(out + n + 9, rdlen);
	return n + WIRE_OPT_LEN;
}

const char *
wire_type_name(uint16_t type, char *buf, size_t bufsz)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	/* Unassigned slots of ldns' table have no name or another type. */
	if (d != NULL && d->_name != NULL && d->_type == type && type != 0)
		return d->_name;
	snprintf(buf, bufsz, "TYPE%u", type);
	return buf;
}
