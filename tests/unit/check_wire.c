/*
 * check_wire.c -- unit tests for wire.c: name decoding (compression,
 * pointer loops and chains, label and name limits), record and question
 * skipping, the section walk that finds the OPT record, name comparison,
 * lower-casing and presentation form.
 *
 * Every packet is written out byte by byte here, so each test says exactly
 * what is on the wire; nothing depends on another DNS library.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* A packet being written: header first, then whatever the test appends. */
struct pkt {
	uint8_t	 b[4096];
	size_t	 len;
};

static void
put(struct pkt *p, const void *data, size_t len)
{
	ck_assert_uint_le(p->len + len, sizeof(p->b));
	if (len == 0)
		return;
	memcpy(p->b + p->len, data, len);
	p->len += len;
}

static void
put8(struct pkt *p, uint8_t v)
{
	put(p, &v, 1);
}

static void
put16(struct pkt *p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

/* A header with the given counts (ID 0x1234, a plain query). */
static void
hdr(struct pkt *p, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	p->len = 0;
	put16(p, 0x1234);
	put16(p, 0x0100);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, ar);
}

/* "www.example.com" -> \3www\7example\3com\0 appended; returns its offset. */
static size_t
putname(struct pkt *p, const char *dotted)
{
	size_t	 start = p->len;
	const char *s = dotted, *dot;

	while (*s != '\0') {
		size_t	 l;

		dot = strchr(s, '.');
		l = dot != NULL ? (size_t)(dot - s) : strlen(s);
		put8(p, (uint8_t)l);
		put(p, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	put8(p, 0);
	return start;
}

/* Question name/type/class appended. */
static void
putq(struct pkt *p, const char *name, uint16_t type, uint16_t class)
{
	putname(p, name);
	put16(p, type);
	put16(p, class);
}

/* A record with root owner (or name), given type and rdata. */
static void
putrr(struct pkt *p, const char *owner, uint16_t type, uint16_t class,
    uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	putname(p, owner);
	put16(p, type);
	put16(p, class);
	put32(p, ttl);
	put16(p, rdlen);
	put(p, rdata, rdlen);
}

/* An OPT record: root owner, class = UDP size, TTL = ext|ver|flags. */
static void
putopt(struct pkt *p, uint16_t size, uint8_t ext, uint8_t ver, int dobit,
    const void *opts, uint16_t optlen)
{
	put8(p, 0);
	put16(p, DNS_TYPE_OPT);
	put16(p, size);
	put8(p, ext);
	put8(p, ver);
	put8(p, dobit ? 0x80 : 0);
	put8(p, 0);
	put16(p, optlen);
	put(p, opts, optlen);
}

static const uint8_t WWW[] = "\3www\7example\3com";	/* 17 with NUL */

/*
 * wire_read_name
 */

START_TEST(name_plain)
{
	struct pkt	 p;
	uint8_t		 out[DNS_MAX_NAME];
	size_t		 pos = DNS_HDR_LEN, outlen = 0;

	hdr(&p, 1, 0, 0, 0);
	putname(&p, "www.example.com");
	put16(&p, 0xabcd);			/* what follows is untouched */
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 17);
	ck_assert_mem_eq(out, WWW, 17);
	ck_assert_uint_eq(pos, DNS_HDR_LEN + 17);

	/* The same with NULL outputs, and through wire_skip_name. */
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), 0);
	ck_assert_uint_eq(pos, DNS_HDR_LEN + 17);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_skip_name(p.b, p.len, &pos), 0);
	ck_assert_uint_eq(pos, DNS_HDR_LEN + 17);
}
END_TEST

START_TEST(name_root)
{
	struct pkt	 p;
	uint8_t		 out[DNS_MAX_NAME];
	size_t		 pos = DNS_HDR_LEN, outlen = 0;

	hdr(&p, 1, 0, 0, 0);
	put8(&p, 0);
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 1);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(pos, DNS_HDR_LEN + 1);
}
END_TEST

START_TEST(name_compressed_backward)
{
	struct pkt	 p;
	uint8_t		 out[DNS_MAX_NAME];
	size_t		 pos, at, outlen = 0;

	hdr(&p, 1, 0, 0, 0);
	putname(&p, "example.com");		/* at 12 */
	at = p.len;
	put(&p, "\3www\xc0\x0c", 6);		/* www + pointer to 12 */
	put16(&p, 0xabcd);
	pos = at;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 17);
	ck_assert_mem_eq(out, WWW, 17);
	/* pos is past the pointer as it sits here, not past the target. */
	ck_assert_uint_eq(pos, at + 6);

	/* A name that is only a pointer. */
	at = p.len;
	put(&p, "\xc0\x0c", 2);
	pos = at;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 13);
	ck_assert_mem_eq(out, "\7example\3com", 13);
	ck_assert_uint_eq(pos, at + 2);
}
END_TEST

START_TEST(name_forward_pointer)
{
	struct pkt	 p;
	size_t		 pos = DNS_HDR_LEN;

	hdr(&p, 1, 0, 0, 0);
	put(&p, "\xc0\x0e", 2);			/* to 14, ahead of itself */
	putname(&p, "example.com");
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);
}
END_TEST

START_TEST(name_self_pointer)
{
	struct pkt	 p;
	size_t		 pos = DNS_HDR_LEN;

	hdr(&p, 1, 0, 0, 0);
	put(&p, "\xc0\x0c", 2);
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);
}
END_TEST

START_TEST(name_pointer_loop)
{
	struct pkt	 p;
	uint8_t		 out[DNS_MAX_NAME];
	size_t		 pos, outlen;

	/* "a" then a pointer back to the "a": a backward pointer that loops. */
	hdr(&p, 1, 0, 0, 0);
	put(&p, "\1a\xc0\x0c", 4);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), -1);
	pos = DNS_HDR_LEN + 2;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), -1);

	/* Two pointers jumping over each other's labels. */
	hdr(&p, 1, 0, 0, 0);
	put(&p, "\1a\xc0\x10\1b\xc0\x0c", 8);	/* 12: a ->16; 16: b ->12 */
	/* 14 points forward (16 > 14): rejected at once. */
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), -1);
	pos = DNS_HDR_LEN + 4;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), -1);
}
END_TEST

/* A chain: root at 12, then n pointers each to the previous one. */
static size_t
pointer_chain(struct pkt *p, int n)
{
	size_t	 prev = DNS_HDR_LEN, at = DNS_HDR_LEN;
	int	 i;

	hdr(p, 1, 0, 0, 0);
	put8(p, 0);
	for (i = 0; i < n; i++) {
		at = p->len;
		put16(p, (uint16_t)(0xc000 | prev));
		prev = at;
	}
	return at;
}

START_TEST(name_pointer_chain)
{
	struct pkt	 p;
	uint8_t		 out[DNS_MAX_NAME];
	size_t		 pos, at, outlen = 9;

	/* A short chain is legal, if odd. */
	at = pointer_chain(&p, 20);
	pos = at;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 1);
	ck_assert_uint_eq(pos, at + 2);

	/* 200 jumps is a denial-of-service attempt: bounded, rejected. */
	at = pointer_chain(&p, 200);
	pos = at;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), -1);
	ck_assert_uint_eq(pos, at);		/* untouched on failure */
}
END_TEST

START_TEST(name_truncated_label)
{
	struct pkt	 p;
	size_t		 pos = DNS_HDR_LEN;

	hdr(&p, 1, 0, 0, 0);
	put(&p, "\3www\5ab", 7);		/* label of 5, 2 bytes left */
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);

	/* Label that ends exactly at the end, no root byte. */
	hdr(&p, 1, 0, 0, 0);
	put(&p, "\3www", 4);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);
}
END_TEST

START_TEST(name_bad_label_type)
{
	struct pkt	 p;
	size_t		 pos;

	hdr(&p, 1, 0, 0, 0);
	put(&p, "\x40" "abc\0", 5);		/* 0x40: extended label */
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);

	hdr(&p, 1, 0, 0, 0);
	put(&p, "\x80" "abc\0", 5);		/* 0x80: reserved */
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);

	/* And after a good label. */
	hdr(&p, 1, 0, 0, 0);
	put(&p, "\1a\x41" "b\0", 5);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);
}
END_TEST

/* A name of total wire length total (>= 2) made of labels of <= 63. */
static size_t
long_name(uint8_t *buf, size_t total)
{
	size_t	 n = 0, left = total - 1;	/* the root byte */

	while (left > 0) {
		size_t	 l = left - 1 > 63 ? 63 : left - 1;

		ck_assert_uint_gt(l, 0);	/* never a 0-length label */
		buf[n++] = (uint8_t)l;
		memset(buf + n, 'a' + (int)(n % 26), l);
		n += l;
		left -= l + 1;
	}
	buf[n++] = 0;
	return n;
}

START_TEST(name_max_length)
{
	struct pkt	 p;
	uint8_t		 name[300], out[DNS_MAX_NAME];
	size_t		 pos, outlen, nl;

	/* 63+63+63+61 bytes of labels: exactly 255 bytes, accepted. */
	nl = long_name(name, 255);
	ck_assert_uint_eq(nl, 255);
	hdr(&p, 1, 0, 0, 0);
	put(&p, name, nl);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 255);
	ck_assert_mem_eq(out, name, 255);
	ck_assert_uint_eq(pos, DNS_HDR_LEN + 255);

	/* 256: rejected. */
	nl = long_name(name, 256);
	ck_assert_uint_eq(nl, 256);
	hdr(&p, 1, 0, 0, 0);
	put(&p, name, nl);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), -1);
}
END_TEST

START_TEST(name_max_length_compressed)
{
	struct pkt	 p;
	uint8_t		 name[300], out[DNS_MAX_NAME];
	size_t		 pos, outlen, nl, at;

	/*
	 * The limit applies to the decoded name: a 253-byte suffix reached
	 * through a pointer after one more label of 1 ("\1x" + 253 = 255) is
	 * fine, after a label of 2 (256) it is not.
	 */
	nl = long_name(name, 253);
	hdr(&p, 1, 0, 0, 0);
	put(&p, name, nl);
	at = p.len;
	put(&p, "\1x\xc0\x0c", 4);
	pos = at;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 255);
	ck_assert_uint_eq(pos, at + 4);

	at = p.len;
	put(&p, "\2xy\xc0\x0c", 5);
	pos = at;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, out, &outlen), -1);
}
END_TEST

START_TEST(name_off_the_end)
{
	struct pkt	 p;
	size_t		 pos;

	/* Labels but no terminating root. */
	hdr(&p, 1, 0, 0, 0);
	put(&p, "\3www\7example", 12);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);

	/* Half a pointer as the last byte. */
	hdr(&p, 1, 0, 0, 0);
	put(&p, "\1a\xc0", 3);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);

	/* Start at or past the end. */
	hdr(&p, 1, 0, 0, 0);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);
	pos = DNS_HDR_LEN + 10;
	ck_assert_int_eq(wire_read_name(p.b, p.len, &pos, NULL, NULL), -1);

	/* The length given is what counts, not the bytes in the buffer. */
	hdr(&p, 1, 0, 0, 0);
	putname(&p, "www.example.com");
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_read_name(p.b, p.len - 1, &pos, NULL, NULL), -1);
}
END_TEST

/*
 * wire_skip_rr, wire_question
 */

START_TEST(skip_rr)
{
	struct pkt	 p;
	size_t		 pos, rdpos = 0;
	uint16_t	 type = 0, rdlen = 0;

	hdr(&p, 0, 1, 0, 0);
	putrr(&p, "a.example", 1, 1, 300, "\xc0\x00\x02\x01", 4);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_skip_rr(p.b, p.len, &pos, &type, &rdpos,
	    &rdlen), 0);
	ck_assert_uint_eq(pos, p.len);
	ck_assert_uint_eq(type, 1);
	ck_assert_uint_eq(rdlen, 4);
	ck_assert_uint_eq(rdpos, p.len - 4);
	ck_assert_mem_eq(p.b + rdpos, "\xc0\x00\x02\x01", 4);

	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_skip_rr(p.b, p.len, &pos, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(pos, p.len);

	/* rdlength one past the end. */
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_skip_rr(p.b, p.len - 1, &pos, &type, &rdpos,
	    &rdlen), -1);
	ck_assert_uint_eq(pos, DNS_HDR_LEN);

	/* rdlength says 0xffff. */
	p.b[p.len - 6] = 0xff;
	p.b[p.len - 5] = 0xff;
	ck_assert_int_eq(wire_skip_rr(p.b, p.len, &pos, NULL, NULL, NULL), -1);
}
END_TEST

START_TEST(skip_rr_short_fixed)
{
	struct pkt	 p;
	size_t		 pos, i;

	/* Root owner then fewer than the 10 fixed bytes. */
	for (i = 0; i < 10; i++) {
		hdr(&p, 0, 1, 0, 0);
		put8(&p, 0);
		put(&p, "\0\1\0\1\0\0\0\0\0\0", i);
		pos = DNS_HDR_LEN;
		ck_assert_int_eq(wire_skip_rr(p.b, p.len, &pos, NULL, NULL,
		    NULL), -1);
	}
	/* Exactly 10 with rdlength 0 is a whole record. */
	hdr(&p, 0, 1, 0, 0);
	put8(&p, 0);
	put(&p, "\0\1\0\1\0\0\0\0\0\0", 10);
	pos = DNS_HDR_LEN;
	ck_assert_int_eq(wire_skip_rr(p.b, p.len, &pos, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(pos, p.len);
}
END_TEST

START_TEST(question)
{
	struct pkt		 p;
	struct wire_question	 q;

	hdr(&p, 1, 0, 0, 0);
	putq(&p, "WwW.Example.COM", 28, 1);
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(wire_question(p.b, p.len, &q), 0);
	ck_assert_uint_eq(q.namelen, 17);
	ck_assert_mem_eq(q.name, "\3WwW\7Example\3COM", 17);	/* as sent */
	ck_assert_uint_eq(q.qtype, 28);
	ck_assert_uint_eq(q.qclass, 1);
	ck_assert_uint_eq(q.end, p.len);

	/* Type/class cut short. */
	ck_assert_int_eq(wire_question(p.b, p.len - 1, &q), -1);
	ck_assert_int_eq(wire_question(p.b, p.len - 4, &q), -1);
	/* No question. */
	p.b[5] = 0;
	ck_assert_int_eq(wire_question(p.b, p.len, &q), -1);
	/* Shorter than a header. */
	ck_assert_int_eq(wire_question(p.b, 11, &q), -1);
}
END_TEST

/*
 * wire_scan
 */

START_TEST(scan_no_opt)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend;

	hdr(&p, 1, 1, 1, 1);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putrr(&p, "example.com", 1, 1, 60, "\1\2\3\4", 4);
	putrr(&p, "example.com", 2, 1, 60, "\2ns\xc0\x0c", 5);
	putrr(&p, "ns.example.com", 1, 1, 60, "\1\2\3\5", 4);
	memset(&e, 0xaa, sizeof(e));
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), 0);
	ck_assert_int_eq(e.present, 0);
	ck_assert_uint_eq(e.udp_size, 0);
}
END_TEST

START_TEST(scan_opt_fields)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend, start;
	const uint8_t		 opts[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7,
				     8 };

	hdr(&p, 1, 1, 0, 2);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putrr(&p, "example.com", 1, 1, 60, "\1\2\3\4", 4);
	putrr(&p, "ns.example.com", 1, 1, 60, "\1\2\3\5", 4);
	start = p.len;
	putopt(&p, 4096, 0x12, 3, 1, opts, sizeof(opts));
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), 0);
	ck_assert_int_eq(e.present, 1);
	ck_assert_uint_eq(e.udp_size, 4096);
	ck_assert_uint_eq(e.ext_rcode, 0x12);
	ck_assert_uint_eq(e.version, 3);
	ck_assert_int_eq(e.do_bit, 1);
	ck_assert_uint_eq(e.rr_start, start);
	ck_assert_uint_eq(e.rr_end, p.len);
	ck_assert_uint_eq(e.opt_start, start + 11);
	ck_assert_uint_eq(e.opt_len, sizeof(opts));

	/* DO clear, other flag bits set: DO still 0. */
	hdr(&p, 1, 0, 0, 1);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putopt(&p, 512, 0, 0, 0, NULL, 0);
	p.b[p.len - 3] = 0x7f;			/* Z bits below DO */
	p.b[p.len - 4] = 0x7f;
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), 0);
	ck_assert_int_eq(e.present, 1);
	ck_assert_int_eq(e.do_bit, 0);
	ck_assert_uint_eq(e.udp_size, 512);
	ck_assert_uint_eq(e.opt_len, 0);
}
END_TEST

START_TEST(scan_opt_not_last)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend, start, end;

	/* OPT first in additional, then an A: legal, found where it is. */
	hdr(&p, 1, 0, 0, 2);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	start = p.len;
	putopt(&p, 1232, 0, 0, 0, NULL, 0);
	end = p.len;
	putrr(&p, "ns.example.com", 1, 1, 60, "\1\2\3\5", 4);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), 0);
	ck_assert_int_eq(e.present, 1);
	ck_assert_uint_eq(e.rr_start, start);
	ck_assert_uint_eq(e.rr_end, end);
}
END_TEST

START_TEST(scan_two_opt)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend;

	hdr(&p, 1, 0, 0, 2);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putopt(&p, 1232, 0, 0, 0, NULL, 0);
	putopt(&p, 1232, 0, 0, 0, NULL, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);
}
END_TEST

START_TEST(scan_opt_in_answer)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend;

	hdr(&p, 1, 1, 0, 0);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putopt(&p, 1232, 0, 0, 0, NULL, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);

	/* And in the authority section. */
	hdr(&p, 1, 0, 1, 0);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putopt(&p, 1232, 0, 0, 0, NULL, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);
}
END_TEST

START_TEST(scan_opt_owner)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend;

	hdr(&p, 1, 0, 0, 1);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putrr(&p, "a", DNS_TYPE_OPT, 1232, 0, NULL, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);
}
END_TEST

START_TEST(scan_trailing)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend;

	hdr(&p, 1, 0, 0, 1);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putopt(&p, 1232, 0, 0, 0, NULL, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), 0);
	put8(&p, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);

	/* Trailing bytes after a bare question. */
	hdr(&p, 1, 0, 0, 0);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	put16(&p, 0xdead);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);
}
END_TEST

START_TEST(scan_counts_too_large)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend;

	/* ARCOUNT 2, one record. */
	hdr(&p, 1, 0, 0, 2);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	putopt(&p, 1232, 0, 0, 0, NULL, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);

	/* ANCOUNT 1, nothing. */
	hdr(&p, 1, 1, 0, 0);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);

	/* All counts 0xffff on a tiny message. */
	hdr(&p, 1, 0xffff, 0xffff, 0xffff);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);

	/* QDCOUNT 2 with only one question. */
	hdr(&p, 2, 0, 0, 0);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);
}
END_TEST

START_TEST(scan_second_question)
{
	struct pkt		 p;
	struct wire_edns	 e;
	size_t			 qend;

	hdr(&p, 2, 0, 0, 1);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	put(&p, "\3www\xc0\x0c\0\1\0\1", 10);
	putopt(&p, 1400, 0, 0, 1, NULL, 0);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), 0);
	ck_assert_int_eq(e.present, 1);
	ck_assert_uint_eq(e.udp_size, 1400);
	ck_assert_int_eq(e.do_bit, 1);

	/* Second question missing its class. */
	hdr(&p, 2, 0, 0, 0);
	putq(&p, "example.com", 1, 1);
	qend = p.len;
	put(&p, "\3www\xc0\x0c\0\1", 8);
	ck_assert_int_eq(wire_scan(p.b, p.len, qend, &e), -1);
}
END_TEST

START_TEST(scan_short)
{
	struct wire_edns	 e;
	uint8_t			 b[12] = { 0 };

	ck_assert_int_eq(wire_scan(b, 11, 11, &e), -1);
	ck_assert_int_eq(wire_scan(b, 12, 12, &e), 0);
	ck_assert_int_eq(e.present, 0);
}
END_TEST

/*
 * Names: compare, lower, text
 */

START_TEST(name_equal)
{
	ck_assert_int_eq(wire_name_equal((const uint8_t *)"\3WwW\7ExAmPlE\3cOm",
	    17, WWW, 17), 1);
	ck_assert_int_eq(wire_name_equal(WWW, 17, WWW, 17), 1);
	ck_assert_int_eq(wire_name_equal((const uint8_t *)"", 1,
	    (const uint8_t *)"", 1), 1);
	/* Different length. */
	ck_assert_int_eq(wire_name_equal(WWW, 17,
	    (const uint8_t *)"\7example\3com", 13), 0);
	/* One letter off. */
	ck_assert_int_eq(wire_name_equal((const uint8_t *)"\3wwx\7example\3com",
	    17, WWW, 17), 0);
	/* Same bytes split into different labels. */
	ck_assert_int_eq(wire_name_equal((const uint8_t *)"\1a\2bc", 6,
	    (const uint8_t *)"\2ab\1c", 6), 0);
	/* Only ASCII folds: 0xc1 and 0xe1 differ (Latin-1 A/a acute). */
	ck_assert_int_eq(wire_name_equal((const uint8_t *)"\1\xc1", 3,
	    (const uint8_t *)"\1\xe1", 3), 0);
	/* '@' / '`' and '[' / '{' are 0x20 apart but are not letters. */
	ck_assert_int_eq(wire_name_equal((const uint8_t *)"\1@", 3,
	    (const uint8_t *)"\1`", 3), 0);
	ck_assert_int_eq(wire_name_equal((const uint8_t *)"\1[", 3,
	    (const uint8_t *)"\1{", 3), 0);
}
END_TEST

START_TEST(name_lower)
{
	uint8_t	 n[80], want[80];

	memcpy(n, "\3WwW\7ExAmPlE\3COM", 17);
	wire_name_lower(n, 17);
	ck_assert_mem_eq(n, WWW, 17);

	/* Non-letters and non-ASCII bytes stay. */
	memcpy(n, "\4@[\xc1Z\0", 6);
	wire_name_lower(n, 6);
	ck_assert_mem_eq(n, "\4@[\xc1z\0", 6);

	/*
	 * A length byte in 'A'..'Z' (65 = 'A', 90 = 'Z'): not a valid
	 * label length, but the walk must still skip it, not fold it.
	 */
	n[0] = 'A';				/* a 65-byte label */
	memset(n + 1, 'Q', 65);
	n[66] = 0;
	memcpy(want, n, 67);
	memset(want + 1, 'q', 65);
	wire_name_lower(n, 67);
	ck_assert_uint_eq(n[0], 'A');
	ck_assert_mem_eq(n, want, 67);

	/* Second label's length byte is 'Z' (90). */
	n[0] = 1;
	n[1] = 'B';
	n[2] = 'Z';
	memset(n + 3, 'M', 5);			/* only 5 of the 90 present */
	wire_name_lower(n, 8);			/* len cuts the label */
	ck_assert_uint_eq(n[0], 1);
	ck_assert_uint_eq(n[1], 'b');
	ck_assert_uint_eq(n[2], 'Z');
	ck_assert_mem_eq(n + 3, "mmmmm", 5);

	/* Empty and root names. */
	wire_name_lower(n, 0);
	n[0] = 0;
	wire_name_lower(n, 1);
	ck_assert_uint_eq(n[0], 0);
}
END_TEST

/* Text of a name given as bytes, into a WIRE_NAME_STRLEN buffer. */
static size_t
to_str(const void *name, size_t len, char *out)
{
	return wire_name_to_str(name, len, out, WIRE_NAME_STRLEN);
}

START_TEST(name_str_basic)
{
	char	 s[WIRE_NAME_STRLEN];

	ck_assert_uint_eq(to_str("", 1, s), 1);
	ck_assert_str_eq(s, ".");
	ck_assert_uint_eq(to_str("", 0, s), 1);
	ck_assert_str_eq(s, ".");
	ck_assert_uint_eq(to_str("\1a\1b", 5, s), 4);
	ck_assert_str_eq(s, "a.b.");
	ck_assert_uint_eq(to_str(WWW, 17, s), 16);
	ck_assert_str_eq(s, "www.example.com.");
	/* Case kept; the ordinary characters go through unescaped. */
	ck_assert_uint_eq(to_str("\x0a" "A-z_0*9/x!", 12, s), 11);
	ck_assert_str_eq(s, "A-z_0*9/x!.");
}
END_TEST

START_TEST(name_str_escapes)
{
	char	 s[WIRE_NAME_STRLEN];

	ck_assert_uint_eq(to_str("\3a.b\3com", 9, s), 9);
	ck_assert_str_eq(s, "a\\.b.com.");
	ck_assert_uint_eq(to_str("\1\\", 3, s), 3);
	ck_assert_str_eq(s, "\\\\.");
	ck_assert_uint_eq(to_str("\1\"", 3, s), 3);
	ck_assert_str_eq(s, "\\\".");
	ck_assert_uint_eq(to_str("\1 ", 3, s), 3);
	ck_assert_str_eq(s, "\\ .");
	to_str("\7()@$;x ", 9, s);
	ck_assert_str_eq(s, "\\(\\)\\@\\$\\;x\\ .");
	/* Other printable punctuation is left alone. */
	to_str("\6!#%+,=", 8, s);
	ck_assert_str_eq(s, "!#%+,=.");
}
END_TEST

START_TEST(name_str_ddd)
{
	char	 s[WIRE_NAME_STRLEN];

	ck_assert_uint_eq(to_str("\1\0", 3, s), 5);
	ck_assert_str_eq(s, "\\000.");
	to_str("\3\x01\x1f\x7f", 5, s);
	ck_assert_str_eq(s, "\\001\\031\\127.");
	to_str("\2\x80\xff", 4, s);
	ck_assert_str_eq(s, "\\128\\255.");
	to_str("\2\x09\x0a", 4, s);
	ck_assert_str_eq(s, "\\009\\010.");
}
END_TEST

START_TEST(name_str_worst_case)
{
	char	 s[WIRE_NAME_STRLEN];
	uint8_t	 name[DNS_MAX_NAME];
	size_t	 i, n;

	/* 255 bytes, every content byte \DDD: 250 * 4 + 4 dots. */
	n = long_name(name, 255);
	for (i = 0; i < n; ) {
		size_t	 l = name[i];

		memset(name + i + 1, 0xff, l);
		i += l + 1;
	}
	memset(s, 'X', sizeof(s));
	ck_assert_uint_eq(to_str(name, n, s), 250 * 4 + 4);
	ck_assert_uint_eq(strlen(s), 250 * 4 + 4);
	ck_assert_uint_lt(250 * 4 + 4, WIRE_NAME_STRLEN);
	ck_assert_int_eq(strncmp(s, "\\255\\255", 8), 0);

	/* 127 one-byte labels of 0x00: 127 * 5. */
	for (i = 0; i < 127; i++) {
		name[2 * i] = 1;
		name[2 * i + 1] = 0;
	}
	name[254] = 0;
	ck_assert_uint_eq(to_str(name, 255, s), 127 * 5);
	ck_assert_uint_eq(strlen(s), 127 * 5);

	/* 127 one-byte labels of '.': 127 * 3. */
	for (i = 0; i < 127; i++)
		name[2 * i + 1] = '.';
	ck_assert_uint_eq(to_str(name, 255, s), 127 * 3);
}
END_TEST

START_TEST(name_str_truncate)
{
	char	 s[32];

	/* Like snprintf: the full length is returned, output cut and ended. */
	memset(s, 'X', sizeof(s));
	ck_assert_uint_eq(wire_name_to_str(WWW, 17, s, 5), 16);
	ck_assert_str_eq(s, "www.");
	ck_assert_uint_eq((uint8_t)s[5], 'X');		/* nothing past outsz */

	ck_assert_uint_eq(wire_name_to_str(WWW, 17, s, 16), 16);
	ck_assert_str_eq(s, "www.example.com");
	ck_assert_uint_eq(wire_name_to_str(WWW, 17, s, 17), 16);
	ck_assert_str_eq(s, "www.example.com.");

	memset(s, 'X', sizeof(s));
	ck_assert_uint_eq(wire_name_to_str(WWW, 17, s, 1), 16);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq((uint8_t)s[1], 'X');

	/* outsz 0: nothing written at all (NULL is fine then). */
	ck_assert_uint_eq(wire_name_to_str(WWW, 17, NULL, 0), 16);
	memset(s, 'X', sizeof(s));
	ck_assert_uint_eq(wire_name_to_str(WWW, 17, s, 0), 16);
	ck_assert_uint_eq((uint8_t)s[0], 'X');

	/* Cut inside an escape. */
	ck_assert_uint_eq(wire_name_to_str((const uint8_t *)"\1\xff", 3, s,
	    3), 5);
	ck_assert_str_eq(s, "\\2");
	ck_assert_uint_eq(wire_name_to_str((const uint8_t *)"", 1, s, 1), 1);
	ck_assert_str_eq(s, "");
}
END_TEST

START_TEST(name_str_bad_input)
{
	char	 s[WIRE_NAME_STRLEN];

	/* A label claiming more bytes than len: stops at len, no overread. */
	uint8_t	*n = malloc(4);

	ck_assert_ptr_nonnull(n);
	memcpy(n, "\x3f" "abc", 4);
	ck_assert_uint_eq(wire_name_to_str(n, 4, s, sizeof(s)), 4);
	ck_assert_str_eq(s, "abc.");
	free(n);
}
END_TEST

static Suite *
wire_suite(void)
{
	Suite	*s = suite_create("wire");
	TCase	*tc;

	tc = tcase_create("read_name");
	tcase_add_test(tc, name_plain);
	tcase_add_test(tc, name_root);
	tcase_add_test(tc, name_compressed_backward);
	tcase_add_test(tc, name_forward_pointer);
	tcase_add_test(tc, name_self_pointer);
	tcase_add_test(tc, name_pointer_loop);
	tcase_add_test(tc, name_pointer_chain);
	tcase_add_test(tc, name_truncated_label);
	tcase_add_test(tc, name_bad_label_type);
	tcase_add_test(tc, name_max_length);
	tcase_add_test(tc, name_max_length_compressed);
	tcase_add_test(tc, name_off_the_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_test(tc, skip_rr);
	tcase_add_test(tc, skip_rr_short_fixed);
	tcase_add_test(tc, question);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_add_test(tc, scan_no_opt);
	tcase_add_test(tc, scan_opt_fields);
	tcase_add_test(tc, scan_opt_not_last);
	tcase_add_test(tc, scan_two_opt);
	tcase_add_test(tc, scan_opt_in_answer);
	tcase_add_test(tc, scan_opt_owner);
	tcase_add_test(tc, scan_trailing);
	tcase_add_test(tc, scan_counts_too_large);
	tcase_add_test(tc, scan_second_question);
	tcase_add_test(tc, scan_short);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, name_equal);
	tcase_add_test(tc, name_lower);
	tcase_add_test(tc, name_str_basic);
	tcase_add_test(tc, name_str_escapes);
	tcase_add_test(tc, name_str_ddd);
	tcase_add_test(tc, name_str_worst_case);
	tcase_add_test(tc, name_str_truncate);
	tcase_add_test(tc, name_str_bad_input);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(wire_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
