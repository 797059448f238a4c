/*
 * dwq.c -- dnsward's packet probe for the integration tests.
 *
 * A small, dependency-free DNS client and misbehaving peer.  dig and kdig
 * cover well-formed traffic; dwq covers what they cannot: raw bytes,
 * pipelined TCP in one write, hostile packets, a black-hole upstream, and a
 * strict JSON check of the decision log.  Every wait is bounded by poll().
 *
 *   dwq query HOST PORT NAME TYPE [--tcp] [--id N] [--rd 0|1] [--cd 0|1]
 *            [--edns SIZE|none] [--ednsver V] [--do] [--opcode N]
 *            [--class N] [--src ADDR] [--timeout MS] [--split]
 *       (--split: TCP, one byte per write, 20 ms apart)
 *       one line: id= rcode= qr= opcode= aa= tc= rd= ra= ad= cd= qd= an=
 *       ns= ar= opt= [udpsize= ednsver= do=] size= (or "timeout")
 *   dwq udp HOST PORT HEX [--src ADDR] [--timeout MS]
 *   dwq tcp HOST PORT HEX [--raw] [--timeout MS]
 *       send raw bytes (TCP: one length-framed message, or the bytes as
 *       given with --raw), print the reply
 *       as hex, "timeout" or "closed"
 *   dwq tcp-pipeline HOST PORT N NAME [--type T] [--timeout MS]
 *       N queries with distinct IDs in ONE write on one connection; read N
 *       framed answers, match IDs and questions; "ok N" or "fail ..."
 *   dwq tcp-idle HOST PORT MAXMS
 *       connect, send nothing; "closed MS" when the server hangs up, or
 *       "open MAXMS" if it did not within MAXMS
 *   dwq tcp-hold HOST PORT N MS
 *       open N connections, hold them MS; "opened=A refused=B closed=C"
 *   dwq fuzz HOST PORT COUNT SEED [--sync NAME] [--src ADDR]
 *       COUNT hostile datagrams, each followed by a well-formed sync query
 *       (so replies pair with packets and the daemon is proven alive);
 *       prints counters and any violations of the expected handling
 *   dwq blackhole HOST PORT SECONDS
 *       bind UDP HOST:PORT, read and ignore for SECONDS; prints "ready"
 *       once bound, "received N" at the end
 *   dwq tcp-flood HOST PORT COUNT SECONDS [--name NAME] [--type T]
 *            [--class N] [--edns SIZE|none] [--stall MS] [--hold MS]
 *       pipeline up to COUNT queries on one connection as fast as it takes
 *       them, never reading a reply; stop after SECONDS or when nothing was
 *       accepted for --stall MS (default 1000); then hold the connection
 *       --hold MS; "written=B queries=N stalled=0|1 closed=0|1 ms=T"
 *   dwq tcp-seq HOST PORT NAME TYPE [NAME TYPE...] [--edns SIZE|none]
 *            [--class N] [--timeout MS]
 *       queries one at a time on one connection, each frame checked
 *       strictly (prefix = bytes that follow, ID and question match);
 *       one line per query, then "trailing=N" (bytes after the last)
 *   dwq upstream HOST PORT SECONDS echo|spoof|badonly|tc|big [SIZE]|
 *            servfail|refused|
 *            slow [MS]
 *       a scripted upstream on UDP and TCP (see cmd_upstream()); prints
 *       "ready" once bound
 *   dwq jsoncheck FILE [FIELD...]
 *       every line a strict JSON object (RFC 8259) holding FIELDs at top
 *       level; "N lines ok" or "line L: why"
 *   dwq jsonfield FILE FIELD
 *       the top-level FIELD of each line: strings without quotes, other
 *       values as written, "-" when absent
 *
 * Exit status: 0 when the operation did what was asked, 1 on a failed
 * check or timeout, 2 on usage or system errors.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAXMSG		65535
#define DEF_TIMEOUT	2000

static const char *progname = "dwq";

static void die(const char *, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long
num_arg(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi)
		die("bad %s '%s' (want %ld..%ld)", what, s, lo, hi);
	return v;
}

/* ---------------------------------------------------------------- rng */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	/* xorshift64*: reproducible from the seed, good enough for fuzz. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned
rnd(unsigned n)
{
	return n ? (unsigned)(rng() % n) : 0;
}

static void
rng_seed_random(void)
{
	int fd;
	uint64_t s = 0;

	if ((fd = open("/dev/urandom", O_RDONLY)) != -1) {
		if (read(fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
			s = 0;
		close(fd);
	}
	if (s == 0)
		s = (uint64_t)now_ms() ^ (uint64_t)getpid() << 32;
	rng_state = s | 1;
}

/* ------------------------------------------------------------ sockets */

static void
parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo hints, *res;
	char h[128];
	size_t hl;
	int e;

	/* Accept "::1" and "[::1]". */
	hl = strlen(host);
	if (hl >= sizeof(h))
		die("address too long: %s", host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memcpy(h, host + 1, hl - 2);
		h[hl - 2] = '\0';
	} else
		memcpy(h, host, hl + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((e = getaddrinfo(h, port ? port : "0", &hints, &res)) != 0)
		die("bad address '%s' port '%s': %s", host, port ? port : "0",
		    gai_strerror(e));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

static int
udp_socket(const struct sockaddr_storage *dst, const char *src)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;

	if ((fd = socket(dst->ss_family, SOCK_DGRAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (src) {
		parse_addr(src, "0", &sa, &salen);
		if (bind(fd, (struct sockaddr *)&sa, salen) == -1)
			die("bind %s: %s", src, strerror(errno));
	}
	return fd;
}

/* Connect with a bounded wait.  Returns the fd, or -1 (errno set). */
static int
tcp_connect(const struct sockaddr_storage *dst, socklen_t dlen, int tmo)
{
	struct pollfd pfd;
	socklen_t el = sizeof(int);
	int fd, fl, err = 0, one = 1;

	if ((fd = socket(dst->ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, (const struct sockaddr *)dst, dlen) == -1) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, tmo) <= 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
		    err != 0) {
			if (err == 0)
				err = errno;
			goto fail;
		}
	}
	fcntl(fd, F_SETFL, fl);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	close(fd);
	errno = err;
	return -1;
}

/* Write all of buf, bounded.  0 or -1. */
static int
write_all(int fd, const uint8_t *buf, size_t len, int tmo)
{
	long long end = now_ms() + tmo;
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			return -1;
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read exactly len bytes before the deadline.  Returns len, 0 on orderly
 * close before anything was read, -1 on timeout/error, -2 on close midway.
 */
static ssize_t
read_full(int fd, uint8_t *buf, size_t len, long long deadline)
{
	struct pollfd pfd;
	size_t got = 0;
	ssize_t n;
	int left;

	while (got < len) {
		left = (int)(deadline - now_ms());
		if (left <= 0)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) <= 0)
			return -1;
		n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n == 0)
			return got ? -2 : 0;
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return got ? -2 : 0;
		}
		got += (size_t)n;
	}
	return (ssize_t)len;
}

/* One framed TCP message.  Returns length, 0 closed, -1 timeout, -2 bad. */
static ssize_t
tcp_read_msg(int fd, uint8_t *buf, long long deadline)
{
	uint8_t lb[2];
	size_t len;
	ssize_t r;

	if ((r = read_full(fd, lb, 2, deadline)) != 2)
		return r == 0 ? 0 : r;
	len = (size_t)lb[0] << 8 | lb[1];
	if (len == 0)
		return -2;
	if ((r = read_full(fd, buf, len, deadline)) != (ssize_t)len)
		return r == -1 ? -1 : -2;
	return (ssize_t)len;
}

/* ------------------------------------------------------- DNS building */

struct pkt {
	uint8_t	b[MAXMSG + 2];
	size_t	len;
};

static void
put8(struct pkt *p, unsigned v)
{
	if (p->len < sizeof(p->b))
		p->b[p->len++] = (uint8_t)v;
}

static void
put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void
putbytes(struct pkt *p, const void *d, size_t n)
{
	const uint8_t *s = d;

	while (n--)
		put8(p, *s++);
}

/* Presentation name to wire; handles "\." and "\DDD".  -1 if invalid. */
static int
put_name(struct pkt *p, const char *name)
{
	uint8_t lab[64];
	size_t ll = 0, total = 0;
	const char *s = name;

	if (strcmp(name, ".") == 0) {
		put8(p, 0);
		return 0;
	}
	for (;;) {
		int c = (unsigned char)*s;

		if (c == '\0' || c == '.') {
			if (ll == 0) {
				if (c == '\0' && s != name && s[-1] == '.')
					break;
				return -1;
			}
			put8(p, ll);
			putbytes(p, lab, ll);
			total += ll + 1;
			ll = 0;
			if (c == '\0' || s[1] == '\0')
				break;
			s++;
			continue;
		}
		if (c == '\\') {
			if (isdigit((unsigned char)s[1]) &&
			    isdigit((unsigned char)s[2]) &&
			    isdigit((unsigned char)s[3])) {
				c = (s[1] - '0') * 100 + (s[2] - '0') * 10 +
				    (s[3] - '0');
				if (c > 255)
					return -1;
				s += 3;
			} else if (s[1] != '\0') {
				c = (unsigned char)s[1];
				s++;
			} else
				return -1;
		}
		if (ll >= 63)
			return -1;
		lab[ll++] = (uint8_t)c;
		s++;
	}
	put8(p, 0);
	return total + 1 > 255 ? -1 : 0;
}

static const struct {
	const char *name;
	unsigned v;
} rrtypes[] = {
	{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "NULL", 10 },
	{ "PTR", 12 }, { "HINFO", 13 }, { "MX", 15 }, { "TXT", 16 },
	{ "AAAA", 28 }, { "SRV", 33 }, { "NAPTR", 35 }, { "DS", 43 },
	{ "OPT", 41 }, { "RRSIG", 46 }, { "NSEC", 47 }, { "DNSKEY", 48 },
	{ "SVCB", 64 }, { "HTTPS", 65 }, { "IXFR", 251 }, { "AXFR", 252 },
	{ "ANY", 255 }, { "CAA", 257 },
};

static unsigned
type_num(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(rrtypes) / sizeof(rrtypes[0]); i++)
		if (strcasecmp(s, rrtypes[i].name) == 0)
			return rrtypes[i].v;
	if (strncasecmp(s, "TYPE", 4) == 0)
		return (unsigned)num_arg(s + 4, 0, 65535, "type");
	return (unsigned)num_arg(s, 0, 65535, "type");
}

struct qopt {
	unsigned id;
	int	 rd, cd, ad, opcode;
	int	 edns;		/* UDP size, or -1 for none */
	int	 ednsver;
	int	 dobit;
	unsigned qclass;
};

static void
qopt_init(struct qopt *o)
{
	memset(o, 0, sizeof(*o));
	o->id = (unsigned)rnd(65536);
	o->rd = 1;
	o->edns = 1232;
	o->qclass = 1;
}

static void
put_opt(struct pkt *p, unsigned size, unsigned ver, int dobit)
{
	put8(p, 0);			/* root owner */
	put16(p, 41);
	put16(p, size);
	put8(p, 0);			/* extended rcode */
	put8(p, ver);
	put16(p, dobit ? 0x8000 : 0);
	put16(p, 0);			/* rdlength */
}

/* Build a query; -1 if the name is not valid. */
static int
build_query(struct pkt *p, const char *name, unsigned qtype,
    const struct qopt *o)
{
	p->len = 0;
	put16(p, o->id);
	put8(p, (o->opcode & 0xf) << 3 | (o->rd ? 1 : 0));
	put8(p, (o->ad ? 0x20 : 0) | (o->cd ? 0x10 : 0));
	put16(p, 1);
	put16(p, 0);
	put16(p, 0);
	put16(p, o->edns >= 0 ? 1 : 0);
	if (put_name(p, name) == -1)
		return -1;
	put16(p, qtype);
	put16(p, o->qclass);
	if (o->edns >= 0)
		put_opt(p, (unsigned)o->edns, (unsigned)o->ednsver, o->dobit);
	return 0;
}

/* ------------------------------------------------------ DNS reading */

/* Skip a name; 0 or -1.  Pointers followed at most 64 times. */
static int
skip_name(const uint8_t *m, size_t len, size_t *pos)
{
	size_t p = *pos;

	while (p < len) {
		uint8_t c = m[p];

		if (c == 0) {
			*pos = p + 1;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return -1;
			*pos = p + 2;
			return 0;
		}
		if (c & 0xc0)
			return -1;
		p += 1 + (size_t)c;
	}
	return -1;
}

/* Read a name into a lowercase presentation form for comparing. */
static int
read_name(const uint8_t *m, size_t len, size_t pos, char *out, size_t osz)
{
	size_t o = 0;
	int hops = 0;

	while (pos < len) {
		uint8_t c = m[pos];

		if (c == 0) {
			if (o == 0 && osz > 1)
				out[o++] = '.';
			out[o < osz ? o : osz - 1] = '\0';
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			if (pos + 2 > len || ++hops > 64)
				return -1;
			pos = ((size_t)(c & 0x3f) << 8) | m[pos + 1];
			continue;
		}
		if (c & 0xc0 || pos + 1 + c > len)
			return -1;
		for (size_t i = 0; i < c; i++) {
			int ch = tolower(m[pos + 1 + i]);

			if (o + 5 >= osz)
				return -1;
			if (ch == '.' || ch == '\\' || ch <= ' ' || ch > '~')
				o += (size_t)snprintf(out + o, osz - o,
				    "\\%03d", ch);
			else
				out[o++] = (char)ch;
		}
		if (o + 2 >= osz)
			return -1;
		out[o++] = '.';
		pos += 1 + (size_t)c;
	}
	return -1;
}

struct reply {
	unsigned id, qr, opcode, aa, tc, rd, ra, ad, cd, rcode;
	unsigned qd, an, ns, ar;
	int	 opt;		/* OPT present */
	unsigned udpsize, ednsver, dobit, extrcode;
	char	 qname[1100];
	unsigned qtype, qclass;
	int	 parsed;	/* sections parsed cleanly */
};

static int
parse_reply(const uint8_t *m, size_t len, struct reply *r)
{
	size_t pos = 12, i, rdl;
	unsigned type;

	memset(r, 0, sizeof(*r));
	if (len < 12)
		return -1;
	r->id = (unsigned)m[0] << 8 | m[1];
	r->qr = m[2] >> 7;
	r->opcode = (m[2] >> 3) & 0xf;
	r->aa = (m[2] >> 2) & 1;
	r->tc = (m[2] >> 1) & 1;
	r->rd = m[2] & 1;
	r->ra = m[3] >> 7;
	r->ad = (m[3] >> 5) & 1;
	r->cd = (m[3] >> 4) & 1;
	r->rcode = m[3] & 0xf;
	r->qd = (unsigned)m[4] << 8 | m[5];
	r->an = (unsigned)m[6] << 8 | m[7];
	r->ns = (unsigned)m[8] << 8 | m[9];
	r->ar = (unsigned)m[10] << 8 | m[11];
	for (i = 0; i < r->qd; i++) {
		if (i == 0 && read_name(m, len, pos, r->qname,
		    sizeof(r->qname)) == -1)
			return 0;
		if (skip_name(m, len, &pos) == -1 || pos + 4 > len)
			return 0;
		if (i == 0) {
			r->qtype = (unsigned)m[pos] << 8 | m[pos + 1];
			r->qclass = (unsigned)m[pos + 2] << 8 | m[pos + 3];
		}
		pos += 4;
	}
	for (i = 0; i < (size_t)r->an + r->ns + r->ar; i++) {
		if (skip_name(m, len, &pos) == -1 || pos + 10 > len)
			return 0;
		type = (unsigned)m[pos] << 8 | m[pos + 1];
		rdl = (size_t)m[pos + 8] << 8 | m[pos + 9];
		if (type == 41 && i >= (size_t)r->an + r->ns) {
			r->opt++;
			r->udpsize = (unsigned)m[pos + 2] << 8 | m[pos + 3];
			r->extrcode = m[pos + 4];
			r->ednsver = m[pos + 5];
			r->dobit = m[pos + 6] >> 7;
		}
		pos += 10 + rdl;
		if (pos > len)
			return 0;
	}
	r->parsed = 1;
	return 0;
}

static const char *
rcode_name(unsigned rc)
{
	static char buf[16];
	static const char *n[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
	    "NXRRSET", "NOTAUTH", "NOTZONE" };

	if (rc < sizeof(n) / sizeof(n[0]))
		return n[rc];
	if (rc == 16)
		return "BADVERS";
	snprintf(buf, sizeof(buf), "RCODE%u", rc);
	return buf;
}

static unsigned
full_rcode(const struct reply *r)
{
	return r->opt ? (r->extrcode << 4 | r->rcode) : r->rcode;
}

static void
print_reply(const struct reply *r, size_t size)
{
	printf("id=%u rcode=%s qr=%u opcode=%u aa=%u tc=%u rd=%u ra=%u "
	    "ad=%u cd=%u qd=%u an=%u ns=%u ar=%u opt=%d",
	    r->id, rcode_name(full_rcode(r)), r->qr, r->opcode, r->aa, r->tc,
	    r->rd, r->ra, r->ad, r->cd, r->qd, r->an, r->ns, r->ar, r->opt);
	if (r->opt)
		printf(" udpsize=%u ednsver=%u do=%u", r->udpsize, r->ednsver,
		    r->dobit);
	printf(" qname=%s size=%zu parsed=%d\n", r->qd ? r->qname : "-",
	    size, r->parsed);
}

static void
print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('\n');
}

static size_t
parse_hex(const char *s, uint8_t *out, size_t osz)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (isspace((unsigned char)*s) || *s == ':')
			continue;
		if (!isxdigit((unsigned char)*s))
			die("bad hex character '%c'", *s);
		v = isdigit((unsigned char)*s) ? *s - '0' :
		    tolower((unsigned char)*s) - 'a' + 10;
		if (hi < 0)
			hi = v;
		else {
			if (n >= osz)
				die("hex packet too long");
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		die("odd number of hex digits");
	return n;
}

/*
 * Wait on a UDP socket for a datagram from dst before the deadline.
 * Returns its length, or -1 on timeout.
 */
static ssize_t
udp_recv(int fd, uint8_t *buf, size_t bsz, long long deadline,
    const struct sockaddr_storage *dst)
{
	struct sockaddr_storage from;
	socklen_t fl;
	struct pollfd pfd;
	ssize_t n;
	int left;

	for (;;) {
		left = (int)(deadline - now_ms());
		if (left <= 0)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) <= 0)
			return -1;
		fl = sizeof(from);
		n = recvfrom(fd, buf, bsz, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		if (n == -1) {
			/* ICMP port unreachable shows up as ECONNREFUSED. */
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNREFUSED)
				continue;
			return -1;
		}
		if (from.ss_family != dst->ss_family)
			continue;
		if (from.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)&from,
			    *b = (const void *)dst;
			if (a->sin_port != b->sin_port ||
			    a->sin_addr.s_addr != b->sin_addr.s_addr)
				continue;
		} else {
			const struct sockaddr_in6 *a = (const void *)&from,
			    *b = (const void *)dst;
			if (a->sin6_port != b->sin6_port ||
			    memcmp(&a->sin6_addr, &b->sin6_addr, 16) != 0)
				continue;
		}
		return n;
	}
}

/* ---------------------------------------------------------- commands */

struct common {
	const char *src;
	int	 timeout;
	int	 tcp;
};

static uint8_t rbuf[MAXMSG + 2];

static int
cmd_query(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct qopt o;
	struct common c = { NULL, DEF_TIMEOUT, 0 };
	struct reply r;
	static struct pkt q;
	ssize_t n;
	int i, fd, split = 0;

	if (argc < 4)
		die("usage: query HOST PORT NAME TYPE [options]");
	qopt_init(&o);
	for (i = 4; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--tcp") == 0) {
			c.tcp = 1;
			continue;
		}
		if (strcmp(a, "--do") == 0) {
			o.dobit = 1;
			continue;
		}
		if (strcmp(a, "--split") == 0) {
			split = 1;
			continue;
		}
		if (v == NULL)
			die("option %s needs a value", a);
		i++;
		if (strcmp(a, "--id") == 0)
			o.id = (unsigned)num_arg(v, 0, 65535, "id");
		else if (strcmp(a, "--rd") == 0)
			o.rd = (int)num_arg(v, 0, 1, "rd");
		else if (strcmp(a, "--cd") == 0)
			o.cd = (int)num_arg(v, 0, 1, "cd");
		else if (strcmp(a, "--ad") == 0)
			o.ad = (int)num_arg(v, 0, 1, "ad");
		else if (strcmp(a, "--opcode") == 0)
			o.opcode = (int)num_arg(v, 0, 15, "opcode");
		else if (strcmp(a, "--class") == 0)
			o.qclass = (unsigned)num_arg(v, 0, 65535, "class");
		else if (strcmp(a, "--edns") == 0)
			o.edns = strcmp(v, "none") == 0 ? -1 :
			    (int)num_arg(v, 0, 65535, "edns size");
		else if (strcmp(a, "--ednsver") == 0)
			o.ednsver = (int)num_arg(v, 0, 255, "edns version");
		else if (strcmp(a, "--src") == 0)
			c.src = v;
		else if (strcmp(a, "--timeout") == 0)
			c.timeout = (int)num_arg(v, 1, 600000, "timeout");
		else
			die("unknown option %s", a);
	}
	if (build_query(&q, argv[2], type_num(argv[3]), &o) == -1)
		die("bad name '%s'", argv[2]);
	parse_addr(argv[0], argv[1], &dst, &dlen);
	if (c.tcp) {
		uint8_t *f = q.b;

		memmove(f + 2, f, q.len);
		f[0] = (uint8_t)(q.len >> 8);
		f[1] = (uint8_t)q.len;
		if ((fd = tcp_connect(&dst, dlen, c.timeout)) == -1) {
			printf("connect-failed %s\n", strerror(errno));
			return 1;
		}
		/* --split: one byte per write, 20 ms apart (partial reads). */
		for (size_t off = 0; off < q.len + 2; ) {
			size_t chunk = split ? 1 : q.len + 2;

			if (write_all(fd, f + off, chunk, c.timeout) == -1) {
				printf("write-failed\n");
				close(fd);
				return 1;
			}
			off += chunk;
			if (split)
				usleep(20000);
		}
		n = tcp_read_msg(fd, rbuf, now_ms() + c.timeout);
		close(fd);
		if (n <= 0) {
			printf("%s\n", n == 0 ? "closed" : n == -1 ?
			    "timeout" : "bad-frame");
			return 1;
		}
	} else {
		fd = udp_socket(&dst, c.src);
		if (sendto(fd, q.b, q.len, 0, (struct sockaddr *)&dst,
		    dlen) == -1)
			die("sendto: %s", strerror(errno));
		n = udp_recv(fd, rbuf, sizeof(rbuf), now_ms() + c.timeout,
		    &dst);
		close(fd);
		if (n < 0) {
			printf("timeout\n");
			return 1;
		}
	}
	parse_reply(rbuf, (size_t)n, &r);
	if (n < 12) {
		printf("short %zd\n", n);
		return 1;
	}
	print_reply(&r, (size_t)n);
	return 0;
}

static int
cmd_raw(int argc, char **argv, int tcp)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	static struct pkt q;
	struct common c = { NULL, DEF_TIMEOUT, tcp };
	ssize_t n;
	int i, fd, raw = 0;

	if (argc < 3)
		die("usage: %s HOST PORT HEX [options]", tcp ? "tcp" : "udp");
	for (i = 3; i < argc && strcmp(argv[i], "--raw") == 0; i++)
		raw = 1;
	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--raw") == 0) {
			raw = 1;
			i--;
		} else if (strcmp(argv[i], "--src") == 0)
			c.src = argv[i + 1];
		else if (strcmp(argv[i], "--timeout") == 0)
			c.timeout = (int)num_arg(argv[i + 1], 1, 600000,
			    "timeout");
		else
			die("unknown option %s", argv[i]);
	}
	if (i != argc)
		die("option %s needs a value", argv[i]);
	q.len = parse_hex(argv[2], q.b + 2, MAXMSG);
	parse_addr(argv[0], argv[1], &dst, &dlen);
	if (tcp) {
		/* --raw: the bytes as given, no length prefix added. */
		q.b[0] = (uint8_t)(q.len >> 8);
		q.b[1] = (uint8_t)q.len;
		if ((fd = tcp_connect(&dst, dlen, c.timeout)) == -1) {
			printf("connect-failed %s\n", strerror(errno));
			return 1;
		}
		if (write_all(fd, q.b + (raw ? 2 : 0), q.len + (raw ? 0 : 2),
		    c.timeout) == -1) {
			printf("closed\n");
			close(fd);
			return 1;
		}
		n = tcp_read_msg(fd, rbuf, now_ms() + c.timeout);
		close(fd);
		if (n <= 0) {
			printf("%s\n", n == -1 ? "timeout" : "closed");
			return 1;
		}
	} else {
		fd = udp_socket(&dst, c.src);
		if (sendto(fd, q.b + 2, q.len, 0, (struct sockaddr *)&dst,
		    dlen) == -1)
			die("sendto: %s", strerror(errno));
		n = udp_recv(fd, rbuf, sizeof(rbuf), now_ms() + c.timeout,
		    &dst);
		close(fd);
		if (n < 0) {
			printf("timeout\n");
			return 1;
		}
	}
	print_hex(rbuf, (size_t)n);
	return 0;
}

static int
cmd_tcp_pipeline(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct qopt o;
	static struct pkt q;
	static uint8_t all[1 << 20];
	static unsigned char seen[65536];
	unsigned ids[4096], qtype = 1;
	size_t alen = 0;
	long long deadline;
	int tmo = 5000, n, i, fd, got = 0, bad = 0;
	char want[1100];

	if (argc < 4)
		die("usage: tcp-pipeline HOST PORT N NAME [--type T] "
		    "[--timeout MS]");
	n = (int)num_arg(argv[2], 1, 4096, "count");
	for (i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--type") == 0)
			qtype = type_num(argv[i + 1]);
		else if (strcmp(argv[i], "--timeout") == 0)
			tmo = (int)num_arg(argv[i + 1], 1, 600000, "timeout");
		else
			die("unknown option %s", argv[i]);
	}
	parse_addr(argv[0], argv[1], &dst, &dlen);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		qopt_init(&o);
		do
			o.id = rnd(65536);
		while (seen[o.id]);
		seen[o.id] = 1;		/* 1 = outstanding */
		ids[i] = o.id;
		if (build_query(&q, argv[3], qtype, &o) == -1)
			die("bad name '%s'", argv[3]);
		if (alen + q.len + 2 > sizeof(all))
			die("too many queries");
		all[alen++] = (uint8_t)(q.len >> 8);
		all[alen++] = (uint8_t)q.len;
		memcpy(all + alen, q.b, q.len);
		alen += q.len;
	}
	/* Expected question name, as read_name() prints it. */
	{
		static struct pkt t;
		t.len = 0;
		put_name(&t, argv[3]);
		read_name(t.b, t.len, 0, want, sizeof(want));
	}
	if ((fd = tcp_connect(&dst, dlen, tmo)) == -1) {
		printf("fail connect %s\n", strerror(errno));
		return 1;
	}
	/* One send() of everything: the server must split the stream. */
	if (send(fd, all, alen, MSG_NOSIGNAL) != (ssize_t)alen) {
		printf("fail short-write\n");
		close(fd);
		return 1;
	}
	deadline = now_ms() + tmo;
	while (got < n) {
		struct reply r;
		ssize_t len = tcp_read_msg(fd, rbuf, deadline);

		if (len <= 0) {
			printf("fail got %d of %d (%s)\n", got, n,
			    len == 0 ? "closed" : len == -1 ? "timeout" :
			    "bad frame");
			close(fd);
			return 1;
		}
		parse_reply(rbuf, (size_t)len, &r);
		if (len < 12 || !r.qr || seen[r.id] != 1 ||
		    strcmp(r.qname, want) != 0) {
			fprintf(stderr, "unexpected answer id=%u qr=%u "
			    "qname=%s\n", r.id, r.qr, r.qname);
			bad++;
		} else
			seen[r.id] = 2;
		got++;
	}
	close(fd);
	for (i = 0; i < n; i++)
		if (seen[ids[i]] != 2)
			bad++;
	if (bad) {
		printf("fail %d answers, %d mismatched\n", got, bad);
		return 1;
	}
	printf("ok %d\n", n);
	return 0;
}

static int
cmd_tcp_idle(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct pollfd pfd;
	long long start, end;
	int fd, maxms;
	uint8_t b[512];

	if (argc < 3)
		die("usage: tcp-idle HOST PORT MAXMS");
	maxms = (int)num_arg(argv[2], 1, 600000, "max ms");
	parse_addr(argv[0], argv[1], &dst, &dlen);
	if ((fd = tcp_connect(&dst, dlen, 2000)) == -1) {
		printf("connect-failed %s\n", strerror(errno));
		return 1;
	}
	start = now_ms();
	end = start + maxms;
	for (;;) {
		int left = (int)(end - now_ms());
		ssize_t n;

		if (left <= 0) {
			printf("open %d\n", maxms);
			close(fd);
			return 1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n <= 0 && !(n == -1 && errno == EAGAIN))
			break;
	}
	printf("closed %lld\n", now_ms() - start);
	close(fd);
	return 0;
}

static int
cmd_tcp_hold(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	int fds[1024], n, i, opened = 0, refused = 0, closed = 0, ms;
	long long end;

	if (argc < 4)
		die("usage: tcp-hold HOST PORT N MS");
	n = (int)num_arg(argv[2], 1, 1000, "count");
	ms = (int)num_arg(argv[3], 1, 600000, "ms");
	parse_addr(argv[0], argv[1], &dst, &dlen);
	for (i = 0; i < n; i++) {
		fds[i] = tcp_connect(&dst, dlen, 1000);
		if (fds[i] == -1)
			refused++;
		else
			opened++;
	}
	end = now_ms() + ms;
	while (now_ms() < end) {
		struct pollfd pfd[1024];
		int k = 0;

		for (i = 0; i < n; i++)
			if (fds[i] != -1) {
				pfd[k].fd = fds[i];
				pfd[k++].events = POLLIN;
			}
		if (k == 0)
			break;
		if (poll(pfd, (nfds_t)k, (int)(end - now_ms())) <= 0)
			continue;
		for (i = 0; i < k; i++) {
			uint8_t b[512];
			ssize_t r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = recv(pfd[i].fd, b, sizeof(b), MSG_DONTWAIT);
			if (r > 0 || (r == -1 && errno == EAGAIN))
				continue;
			for (int j = 0; j < n; j++)
				if (fds[j] == pfd[i].fd) {
					close(fds[j]);
					fds[j] = -1;
				}
			closed++;
		}
	}
	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
	printf("opened=%d refused=%d closed=%d\n", opened, refused, closed);
	return 0;
}

static int
cmd_blackhole(int argc, char **argv)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct pollfd pfd;
	long long end;
	unsigned long count = 0;
	int fd, secs;

	if (argc < 3)
		die("usage: blackhole HOST PORT SECONDS");
	secs = (int)num_arg(argv[2], 1, 3600, "seconds");
	parse_addr(argv[0], argv[1], &sa, &salen);
	if ((fd = socket(sa.ss_family, SOCK_DGRAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, salen) == -1)
		die("bind %s port %s: %s", argv[0], argv[1], strerror(errno));
	printf("ready\n");
	fflush(stdout);
	end = now_ms() + (long long)secs * 1000;
	while (now_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end - now_ms())) > 0 &&
		    recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) >= 0)
			count++;
	}
	close(fd);
	printf("received %lu\n", count);
	return 0;
}

/*
 * tcp-flood: one connection, queries written as fast as the socket takes
 * them, replies never read (a small receive buffer, so they back up at the
 * server at once).  Stops after COUNT queries, after SECONDS, when the
 * socket accepted nothing for --stall MS (the server stopped reading), or
 * when the server closed.  Then keeps the connection open, still unread,
 * for --hold MS.  Prints one line before the hold:
 *   written=BYTES queries=N stalled=0|1 closed=0|1 ms=ELAPSED
 */
static int
cmd_tcp_flood(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct qopt o;
	static struct pkt q;
	static uint8_t chunk[256 * (MAXMSG + 2) / 64];
	const char *name = "flood.test";
	unsigned qtype = 1, k;
	size_t flen, clen = 0, off = 0;
	unsigned long long written = 0, limit;
	long long start, end, last, stall_at;
	int fd, fl, secs, stall = 1000, hold = 0, rcvbuf = 4096, i;
	int stalled = 0, closed = 0;

	if (argc < 4)
		die("usage: tcp-flood HOST PORT COUNT SECONDS [--name NAME] "
		    "[--type T] [--class N] [--edns SIZE|none] [--stall MS] "
		    "[--hold MS]");
	qopt_init(&o);
	limit = (unsigned long long)num_arg(argv[2], 1, 100000000L, "count");
	secs = (int)num_arg(argv[3], 1, 60, "seconds");
	for (i = 4; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];

		if (strcmp(a, "--name") == 0)
			name = v;
		else if (strcmp(a, "--type") == 0)
			qtype = type_num(v);
		else if (strcmp(a, "--class") == 0)
			o.qclass = (unsigned)num_arg(v, 0, 65535, "class");
		else if (strcmp(a, "--edns") == 0)
			o.edns = strcmp(v, "none") == 0 ? -1 :
			    (int)num_arg(v, 0, 65535, "edns size");
		else if (strcmp(a, "--stall") == 0)
			stall = (int)num_arg(v, 10, 60000, "stall ms");
		else if (strcmp(a, "--hold") == 0)
			hold = (int)num_arg(v, 0, 60000, "hold ms");
		else
			die("unknown option %s", a);
	}
	if (i != argc)
		die("option %s needs a value", argv[i]);
	/* 256 framed copies of the query with distinct IDs, sent in a loop. */
	for (k = 0; k < 256; k++) {
		o.id = k;
		if (build_query(&q, name, qtype, &o) == -1)
			die("bad name '%s'", name);
		if (clen + q.len + 2 > sizeof(chunk))
			die("query too long");
		chunk[clen++] = (uint8_t)(q.len >> 8);
		chunk[clen++] = (uint8_t)q.len;
		memcpy(chunk + clen, q.b, q.len);
		clen += q.len;
	}
	flen = clen / 256;
	limit *= flen;
	parse_addr(argv[0], argv[1], &dst, &dlen);
	if ((fd = socket(dst.ss_family, SOCK_STREAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	/* Before connect(), so the window the server sees is small too. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&dst, dlen) == -1) {
		struct pollfd pfd = { fd, POLLOUT, 0 };
		socklen_t el = sizeof(int);
		int err = 0;

		if (errno != EINPROGRESS)
			err = errno;
		else if (poll(&pfd, 1, 2000) <= 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			err = errno;
		if (err != 0) {
			printf("connect-failed %s\n", strerror(err));
			close(fd);
			return 1;
		}
	}
	start = last = now_ms();
	end = start + (long long)secs * 1000;
	while (written < limit) {
		struct pollfd pfd = { fd, POLLOUT, 0 };
		long long now = now_ms();
		size_t want;
		ssize_t n;

		stall_at = last + stall;
		if (now >= end)
			break;
		if (now >= stall_at) {
			stalled = 1;
			break;
		}
		if (poll(&pfd, 1, (int)((end < stall_at ? end : stall_at) -
		    now)) <= 0)
			continue;
		if (pfd.revents & (POLLERR | POLLHUP)) {
			closed = 1;
			break;
		}
		want = clen - off;
		if (want > limit - written)
			want = (size_t)(limit - written);
		n = send(fd, chunk + off, want, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			closed = 1;
			break;
		}
		if (n > 0) {
			written += (unsigned long long)n;
			off = (off + (size_t)n) % clen;
			last = now_ms();
		}
	}
	printf("written=%llu queries=%llu stalled=%d closed=%d ms=%lld\n",
	    written, written / flen, stalled, closed, now_ms() - start);
	fflush(stdout);
	/* Hold the connection, replies still unread. */
	end = now_ms() + hold;
	while (now_ms() < end)
		poll(NULL, 0, (int)(end - now_ms()));
	close(fd);
	return 0;
}

/*
 * tcp-seq: queries one after the other on ONE connection, each answer
 * read before the next query goes out, every frame checked strictly: a
 * length prefix above zero, exactly that many bytes, a parseable reply
 * with QR, the query's ID and its question.  After the last, any bytes
 * that still arrive within 300 ms are counted as trailing garbage.  Prints
 * one line per query ("K: <reply fields> prefix=P" or "K: bad-frame ...",
 * "K: timeout", "K: closed", "K: mismatch ...") and "trailing=N".
 * Exit 0 when every frame was well formed and matched, 1 otherwise.
 */
static int
cmd_tcp_seq(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct qopt o;
	static struct pkt q;
	const char *names[32];
	unsigned types[32];
	int nq = 0, i, fd, tmo = DEF_TIMEOUT, bad = 0;
	unsigned qclass = 1;
	int edns = 1232;
	size_t trailing = 0;

	if (argc < 4)
		die("usage: tcp-seq HOST PORT NAME TYPE [NAME TYPE...] "
		    "[--edns SIZE|none] [--class N] [--timeout MS]");
	for (i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			die("%s needs a second argument", argv[i]);
		if (strcmp(argv[i], "--edns") == 0)
			edns = strcmp(argv[i + 1], "none") == 0 ? -1 :
			    (int)num_arg(argv[i + 1], 0, 65535, "edns size");
		else if (strcmp(argv[i], "--class") == 0)
			qclass = (unsigned)num_arg(argv[i + 1], 0, 65535,
			    "class");
		else if (strcmp(argv[i], "--timeout") == 0)
			tmo = (int)num_arg(argv[i + 1], 1, 600000, "timeout");
		else if (argv[i][0] == '-')
			die("unknown option %s", argv[i]);
		else {
			if (nq >= 32)
				die("too many queries");
			names[nq] = argv[i];
			types[nq++] = type_num(argv[i + 1]);
		}
	}
	if (nq == 0)
		die("no query");
	parse_addr(argv[0], argv[1], &dst, &dlen);
	if ((fd = tcp_connect(&dst, dlen, tmo)) == -1) {
		printf("connect-failed %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < nq; i++) {
		static struct pkt t;
		struct reply r;
		char want[1100];
		uint8_t lb[2];
		size_t plen;
		long long deadline = now_ms() + tmo;
		ssize_t n;

		qopt_init(&o);
		o.edns = edns;
		o.qclass = qclass;
		if (build_query(&q, names[i], types[i], &o) == -1)
			die("bad name '%s'", names[i]);
		t.len = 0;
		put_name(&t, names[i]);
		read_name(t.b, t.len, 0, want, sizeof(want));
		lb[0] = (uint8_t)(q.len >> 8);
		lb[1] = (uint8_t)q.len;
		if (write_all(fd, lb, 2, tmo) == -1 ||
		    write_all(fd, q.b, q.len, tmo) == -1) {
			printf("%d: write-failed\n", i + 1);
			bad++;
			break;
		}
		n = read_full(fd, lb, 2, deadline);
		if (n != 2) {
			printf("%d: %s\n", i + 1, n == -1 ? "timeout" :
			    "closed");
			bad++;
			break;
		}
		plen = (size_t)lb[0] << 8 | lb[1];
		if (plen < 12) {
			/* Unframeable from here on: report, go on reading. */
			printf("%d: bad-frame prefix=%zu\n", i + 1, plen);
			bad++;
			continue;
		}
		n = read_full(fd, rbuf, plen, deadline);
		if (n != (ssize_t)plen) {
			printf("%d: short-frame prefix=%zu (%s)\n", i + 1,
			    plen, n == -1 ? "timeout" : "closed");
			bad++;
			break;
		}
		parse_reply(rbuf, plen, &r);
		if (!r.parsed || !r.qr || r.id != o.id || r.qd != 1 ||
		    strcmp(r.qname, want) != 0 || r.qtype != types[i]) {
			printf("%d: mismatch id=%u (sent %u) qr=%u parsed=%d "
			    "qd=%u qname=%s prefix=%zu\n", i + 1, r.id, o.id,
			    r.qr, r.parsed, r.qd, r.qname, plen);
			bad++;
			continue;
		}
		printf("%d: ", i + 1);
		print_reply(&r, plen);
	}
	/* Nothing may follow the last answer. */
	{
		long long end = now_ms() + 300;
		struct pollfd pfd;
		ssize_t n;

		while (now_ms() < end) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
				continue;
			n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
			if (n > 0)
				trailing += (size_t)n;
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				break;
		}
	}
	close(fd);
	printf("trailing=%zu\n", trailing);
	return bad || trailing ? 1 : 0;
}

/* ---------------------------------------------------- fake upstream */

/*
 * A scripted upstream server on UDP and TCP HOST:PORT.  Modes:
 *   echo     answer TXT "id=.. port=.. rd=.. cd=.. ad=.. do=.. edns=.. qname=.."
 *            describing the query as received (what the forwarder sent)
 *   spoof    per UDP query: a reply with the wrong ID, one with the wrong
 *            question, one from another port (all A 6.6.6.6), then the
 *            real one (A 192.0.2.99, question case flipped)
 *   badonly  the three bad replies of spoof, never a good one
 *   tc       UDP: TC=1 with no answer; TCP: A 192.0.2.77
 *   big [SIZE]
 *            UDP: TC=1; TCP: for a name starting with "big." a reply of
 *            exactly SIZE bytes (default 65525) without OPT, one NULL
 *            record holding the rest; other names A 192.0.2.77
 *   slow [MS]
 *            UDP: TC=1; TCP: a length prefix promising 1000 bytes more
 *            than a reply, then one zero byte every MS (default 300 ms)
 *            until the peer closes, 60 bytes were sent or time is up
 *   servfail, refused
 *            every query (UDP and TCP) answered with that rcode, no records
 */
enum upmode { UP_ECHO, UP_SPOOF, UP_BADONLY, UP_TC, UP_BIG, UP_SLOW,
    UP_SERVFAIL, UP_REFUSED };

/* Is the first label of query q's name (at offset 12) "big"? */
static int
up_is_big(const uint8_t *q, size_t qend)
{
	return qend >= 12 + 4 + 4 && q[12] == 3 &&
	    strncasecmp((const char *)q + 13, "big", 3) == 0;
}

/* Reply r (question only, from up_reply) grown to `size` by a NULL RR. */
static void
up_grow(struct pkt *r, size_t size)
{
	size_t rdlen = size - r->len - 12;

	r->b[7] = 1;				/* ancount */
	put16(r, 0xc00c);
	put16(r, 10);				/* NULL */
	put16(r, 1);
	put32(r, 60);
	put16(r, (unsigned)rdlen);
	while (rdlen-- > 0)
		put8(r, 0);
}

/*
 * Send the 2-byte prefix of a reply 1000 bytes longer than r, then one
 * byte every `ms` until the peer closes, 60 bytes went, or `end`.
 */
static void
up_trickle(int cfd, const struct pkt *r, int ms, long long end)
{
	size_t want = r->len + 1000;
	uint8_t lb[2] = { (uint8_t)(want >> 8), (uint8_t)want };
	int sent;

	if (write_all(cfd, lb, 2, 1000) == -1)
		return;
	for (sent = 0; sent < 60 && now_ms() < end; sent++) {
		long long next = now_ms() + ms;
		struct pollfd pfd;

		/* Wait out the interval, watching for the peer's close. */
		while (now_ms() < next) {
			pfd.fd = cfd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, (int)(next - now_ms())) > 0) {
				uint8_t b[512];
				ssize_t n = recv(cfd, b, sizeof(b),
				    MSG_DONTWAIT);

				if (n == 0 || (n == -1 && errno != EAGAIN &&
				    errno != EINTR))
					return;
			}
		}
		if (send(cfd, r->b + sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
			return;
	}
}

/* Build a reply to query q (question at 12..qend) into r. */
static void
up_reply(struct pkt *r, const uint8_t *q, size_t qend, unsigned id,
    int tc, const char *qname_override, uint32_t ip, const char *txt)
{
	r->len = 0;
	put16(r, id);
	put8(r, 0x80 | (q[2] & 0x01) | (tc ? 0x02 : 0));
	put8(r, 0x80 | (q[3] & 0x10));
	put16(r, 1);
	put16(r, (ip || txt) && !tc ? 1 : 0);
	put16(r, 0);
	put16(r, 0);
	if (qname_override) {
		put_name(r, qname_override);
		putbytes(r, q + qend - 4, 4);
	} else
		putbytes(r, q + 12, qend - 12);
	if (tc || (!ip && !txt))
		return;
	put16(r, 0xc00c);
	if (txt) {
		size_t n = strlen(txt);

		if (n > 255)
			n = 255;
		put16(r, 16);
		put16(r, 1);
		put32(r, 60);
		put16(r, (unsigned)n + 1);
		put8(r, (unsigned)n);
		putbytes(r, txt, n);
	} else {
		put16(r, 1);
		put16(r, 1);
		put32(r, 60);
		put16(r, 4);
		put32(r, ip);
	}
}

/* Describe query q as seen from `from`; -1 if not a query we can use. */
static int
up_parse(const uint8_t *q, size_t len, size_t *qend, char *desc, size_t dsz,
    const struct sockaddr_storage *from)
{
	size_t pos = 12;
	unsigned ar, i, dobit = 0, edns = 0;
	char name[1100];
	uint16_t port;

	if (len < 12 || (q[2] & 0x80) || ((q[4] << 8) | q[5]) != 1)
		return -1;
	if (read_name(q, len, 12, name, sizeof(name)) == -1 ||
	    skip_name(q, len, &pos) == -1 || pos + 4 > len)
		return -1;
	pos += 4;
	*qend = pos;
	ar = (unsigned)q[10] << 8 | q[11];
	for (i = 0; i < ar; i++) {
		size_t at = pos;

		if (skip_name(q, len, &pos) == -1 || pos + 10 > len)
			break;
		if (((q[pos] << 8) | q[pos + 1]) == 41 && q[at] == 0) {
			edns = (unsigned)q[pos + 2] << 8 | q[pos + 3];
			dobit = q[pos + 6] >> 7;
		}
		pos += 10 + ((size_t)q[pos + 8] << 8 | q[pos + 9]);
	}
	port = from->ss_family == AF_INET ?
	    ntohs(((const struct sockaddr_in *)(const void *)from)->sin_port) :
	    ntohs(((const struct sockaddr_in6 *)(const void *)from)->sin6_port);
	/* the qname as sent, case kept */
	{
		size_t o = 0, p = 12;

		while (p < len && q[p] != 0 && o + 70 < sizeof(name)) {
			memcpy(name + o, q + p + 1, q[p]);
			o += q[p];
			name[o++] = '.';
			p += 1 + (size_t)q[p];
		}
		name[o] = '\0';
	}
	snprintf(desc, dsz, "id=%u port=%u rd=%u cd=%u ad=%u do=%u edns=%u "
	    "qname=%s", (unsigned)q[0] << 8 | q[1], port, q[2] & 1,
	    (q[3] >> 4) & 1, (q[3] >> 5) & 1, dobit, edns, name);
	return 0;
}

static int
cmd_upstream(int argc, char **argv)
{
	struct sockaddr_storage sa, from;
	socklen_t salen, fl;
	static struct pkt r;
	static uint8_t q[MAXMSG + 2];
	enum upmode mode;
	long long end;
	unsigned long nudp = 0, ntcp = 0;
	int ufd, lfd, ofd, secs, one = 1, arg = -1;

	if (argc < 4)
		die("usage: upstream HOST PORT SECONDS "
		    "echo|spoof|badonly|tc|big [SIZE]|slow [MS]|servfail|refused");
	secs = (int)num_arg(argv[2], 1, 3600, "seconds");
	if (strcmp(argv[3], "echo") == 0)
		mode = UP_ECHO;
	else if (strcmp(argv[3], "spoof") == 0)
		mode = UP_SPOOF;
	else if (strcmp(argv[3], "badonly") == 0)
		mode = UP_BADONLY;
	else if (strcmp(argv[3], "tc") == 0)
		mode = UP_TC;
	else if (strcmp(argv[3], "big") == 0) {
		mode = UP_BIG;
		arg = argc > 4 ? (int)num_arg(argv[4], 100, MAXMSG,
		    "reply size") : 65525;
	} else if (strcmp(argv[3], "slow") == 0) {
		mode = UP_SLOW;
		arg = argc > 4 ? (int)num_arg(argv[4], 1, 10000,
		    "interval ms") : 300;
	} else if (strcmp(argv[3], "servfail") == 0)
		mode = UP_SERVFAIL;
	else if (strcmp(argv[3], "refused") == 0)
		mode = UP_REFUSED;
	else
		die("unknown mode '%s'", argv[3]);
	parse_addr(argv[0], argv[1], &sa, &salen);
	if ((ufd = socket(sa.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    (lfd = socket(sa.ss_family, SOCK_STREAM, 0)) == -1 ||
	    (ofd = socket(sa.ss_family, SOCK_DGRAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ufd, (struct sockaddr *)&sa, salen) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, salen) == -1 ||
	    listen(lfd, 16) == -1)
		die("bind %s port %s: %s", argv[0], argv[1], strerror(errno));
	printf("ready\n");
	fflush(stdout);
	end = now_ms() + (long long)secs * 1000;
	while (now_ms() < end) {
		struct pollfd pfd[2] = { { ufd, POLLIN, 0 }, { lfd, POLLIN, 0 } };
		char desc[1400];
		size_t qend;
		ssize_t n;

		if (poll(pfd, 2, (int)(end - now_ms())) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			unsigned id;

			fl = sizeof(from);
			n = recvfrom(ufd, q, sizeof(q), MSG_DONTWAIT,
			    (struct sockaddr *)&from, &fl);
			if (n < 0 || up_parse(q, (size_t)n, &qend, desc,
			    sizeof(desc), &from) == -1)
				continue;
			nudp++;
			id = (unsigned)q[0] << 8 | q[1];
#define UP_SEND(fd) sendto(fd, r.b, r.len, 0, (struct sockaddr *)&from, fl)
			switch (mode) {
			case UP_ECHO:
				up_reply(&r, q, qend, id, 0, NULL, 0, desc);
				UP_SEND(ufd);
				break;
			case UP_TC:
			case UP_BIG:
			case UP_SLOW:
				up_reply(&r, q, qend, id, 1, NULL, 0, NULL);
				UP_SEND(ufd);
				break;
			case UP_SERVFAIL:
			case UP_REFUSED:
				up_reply(&r, q, qend, id, 0, NULL, 0, NULL);
				r.b[3] = (uint8_t)((r.b[3] & 0xf0) |
				    (mode == UP_SERVFAIL ? 2 : 5));
				UP_SEND(ufd);
				break;
			case UP_SPOOF:
			case UP_BADONLY:
				up_reply(&r, q, qend, id ^ 0x5555, 0, NULL,
				    0x06060606, NULL);
				UP_SEND(ufd);
				up_reply(&r, q, qend, id, 0, "evil.test",
				    0x06060606, NULL);
				UP_SEND(ufd);
				up_reply(&r, q, qend, id, 0, NULL, 0x06060606,
				    NULL);
				UP_SEND(ofd);
				if (mode == UP_BADONLY)
					break;
				usleep(20000);
				up_reply(&r, q, qend, id, 0, NULL, 0xc0000263,
				    NULL);
				/* flip the case of the question's letters */
				for (size_t i = 12; i < qend - 4; i++)
					if (isalpha(r.b[i]))
						r.b[i] ^= 0x20;
				UP_SEND(ufd);
				break;
			}
#undef UP_SEND
		}
		if (pfd[1].revents & POLLIN) {
			int cfd = accept(lfd, (struct sockaddr *)&from,
			    &(socklen_t){ sizeof(from) });
			long long dl = now_ms() + 1000;

			if (cfd == -1)
				continue;
			/* Serve the queries of this connection, bounded. */
			for (;;) {
				ssize_t len = tcp_read_msg(cfd, q, dl);
				uint8_t lb[2];

				if (len <= 0 || up_parse(q, (size_t)len,
				    &qend, desc, sizeof(desc), &from) == -1)
					break;
				ntcp++;
				if (mode == UP_SLOW) {
					up_reply(&r, q, qend, (unsigned)q[0] << 8 |
					    q[1], 0, NULL, 0, NULL);
					up_trickle(cfd, &r, arg, end);
					break;
				}
				if (mode == UP_BIG && up_is_big(q, qend)) {
					up_reply(&r, q, qend, (unsigned)q[0] << 8 |
					    q[1], 0, NULL, 0, NULL);
					up_grow(&r, (size_t)arg);
				} else if (mode == UP_ECHO)
					up_reply(&r, q, qend, (unsigned)q[0] << 8 |
					    q[1], 0, NULL, 0, desc);
				else if (mode == UP_SERVFAIL ||
				    mode == UP_REFUSED) {
					up_reply(&r, q, qend, (unsigned)q[0] << 8 |
					    q[1], 0, NULL, 0, NULL);
					r.b[3] = (uint8_t)((r.b[3] & 0xf0) |
					    (mode == UP_SERVFAIL ? 2 : 5));
				} else
					up_reply(&r, q, qend, (unsigned)q[0] << 8 |
					    q[1], 0, NULL, mode == UP_SPOOF ||
					    mode == UP_BADONLY ? 0xc0000263 :
					    0xc000024d, NULL);
				lb[0] = (uint8_t)(r.len >> 8);
				lb[1] = (uint8_t)r.len;
				if (write_all(cfd, lb, 2, 1000) == -1 ||
				    write_all(cfd, r.b, r.len, 1000) == -1)
					break;
				/* Do not hold up UDP for an idle client. */
				dl = now_ms() + 200;
			}
			close(cfd);
		}
	}
	printf("udp=%lu tcp=%lu\n", nudp, ntcp);
	return 0;
}

/* ------------------------------------------------------------- fuzz */

enum expect {
	EXP_SANE,		/* reply or not; a reply must be sane */
	EXP_NOREPLY,		/* responses are ignored */
	EXP_FORMERR_OR_DROP,
	EXP_FORMERR,
	EXP_NOTIMP
};

static const char *expect_name[] = {
	"any", "no reply", "FORMERR or drop", "FORMERR", "NOTIMP"
};

struct fuzzcase {
	const char	*cat;
	enum expect	 exp;
};

/* A well-formed query header + question for "host.test" type A. */
static void
fz_query(struct pkt *p, unsigned id, unsigned flags, unsigned qd,
    unsigned an, unsigned ns, unsigned ar)
{
	p->len = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, ar);
}

static void
fz_question(struct pkt *p, const char *name, unsigned type)
{
	put_name(p, name);
	put16(p, type);
	put16(p, 1);
}

static void
fuzz_make(struct pkt *p, unsigned id, struct fuzzcase *fc)
{
	unsigned k = rnd(16), i, n;

	switch (k) {
	case 0:
	case 1:
	case 2:		/* random garbage of random length */
		n = rnd(601);
		p->len = 0;
		for (i = 0; i < n; i++)
			put8(p, rnd(256));
		fc->cat = "garbage";
		/* A garbage "response" must not be answered either. */
		fc->exp = (n >= 12 && (p->b[2] & 0x80)) ? EXP_NOREPLY :
		    EXP_SANE;
		if (n >= 2) {
			p->b[0] = (uint8_t)(id >> 8);
			p->b[1] = (uint8_t)id;
		}
		break;
	case 3:		/* truncated header */
		fz_query(p, id, 0x0100, 1, 0, 0, 0);
		p->len = rnd(12);
		fc->cat = "short-header";
		fc->exp = EXP_FORMERR_OR_DROP;
		break;
	case 4:		/* truncated question */
		fz_query(p, id, 0x0100, 1, 0, 0, 0);
		fz_question(p, "host.test", 1);
		p->len = 12 + rnd((unsigned)p->len - 12);
		fc->cat = "short-question";
		fc->exp = EXP_FORMERR_OR_DROP;
		break;
	case 5:		/* a response */
		fz_query(p, id, 0x8180, 1, 1, 0, 0);
		fz_question(p, "host.test", 1);
		put16(p, 0xc00c);
		put16(p, 1);
		put16(p, 1);
		put32(p, 300);
		put16(p, 4);
		put32(p, 0x7f000001);
		fc->cat = "qr1";
		fc->exp = EXP_NOREPLY;
		break;
	case 6:		/* no question */
		fz_query(p, id, 0x0100, 0, 0, 0, 0);
		if (rnd(2)) {
			put_opt(p, 1232, 0, 0);
			p->b[11] = 1;		/* arcount */
		}
		fc->cat = "qdcount0";
		fc->exp = EXP_FORMERR;
		break;
	case 7:		/* two questions */
		fz_query(p, id, 0x0100, 2, 0, 0, 0);
		fz_question(p, "host.test", 1);
		fz_question(p, "host.test", 28);
		fc->cat = "qdcount2";
		fc->exp = EXP_FORMERR;
		break;
	case 8:		/* bad label lengths */
		fz_query(p, id, 0x0100, 1, 0, 0, 0);
		if (rnd(2)) {
			/* 0x40/0x80: reserved label types */
			put8(p, rnd(2) ? 0x40 + rnd(0x3f) : 0x80 + rnd(0x3f));
			putbytes(p, "host", 4);
			put8(p, 0);
		} else {
			/* a label running past the end */
			put8(p, 63);
			putbytes(p, "host", 4);
		}
		put16(p, 1);
		put16(p, 1);
		fc->cat = "bad-label";
		fc->exp = EXP_FORMERR_OR_DROP;
		break;
	case 9:		/* compression pointer loops */
		fz_query(p, id, 0x0100, 1, 0, 0, 0);
		switch (rnd(3)) {
		case 0:		/* points at itself */
			put16(p, 0xc00c);
			break;
		case 1:		/* two pointers pointing at each other */
			put8(p, 1);
			put8(p, 'a');
			put16(p, 0xc010);
			put16(p, 0xc00c);
			break;
		default:	/* forward pointer past the end */
			put16(p, 0xc000 | 0x3fff);
			break;
		}
		put16(p, 1);
		put16(p, 1);
		fc->cat = "ptr-loop";
		fc->exp = EXP_FORMERR_OR_DROP;
		break;
	case 10:	/* OPT in the wrong place or twice */
		switch (rnd(3)) {
		case 0:		/* in the answer section */
			fz_query(p, id, 0x0100, 1, 1, 0, 0);
			fz_question(p, "host.test", 1);
			put_opt(p, 1232, 0, 0);
			fc->cat = "opt-in-answer";
			fc->exp = EXP_FORMERR_OR_DROP;
			break;
		case 1:		/* two OPTs: RFC 6891 6.1.1 MUST FORMERR */
			fz_query(p, id, 0x0100, 1, 0, 0, 2);
			fz_question(p, "host.test", 1);
			put_opt(p, 1232, 0, 0);
			put_opt(p, 4096, 0, 0);
			fc->cat = "opt-twice";
			fc->exp = EXP_FORMERR;
			break;
		default:	/* OPT with a non-root owner */
			fz_query(p, id, 0x0100, 1, 0, 0, 1);
			fz_question(p, "host.test", 1);
			put_name(p, "host.test");
			put16(p, 41);
			put16(p, 1232);
			put32(p, 0);
			put16(p, 0);
			fc->cat = "opt-owner";
			fc->exp = EXP_FORMERR_OR_DROP;
			break;
		}
		break;
	case 11:	/* opcodes other than QUERY */
	{
		static const unsigned ops[] = { 1, 2, 4, 5, 5, 5, 6, 15 };
		unsigned op = ops[rnd(8)];

		fz_query(p, id, op << 11 | 0x0100, 1, 0, 0, 0);
		fz_question(p, op == 5 ? "test" : "host.test",
		    op == 5 ? 6 : 1);
		fc->cat = op == 5 ? "opcode5" : "opcode-other";
		fc->exp = EXP_NOTIMP;
		break;
	}
	case 12:	/* rdlength past the end in the additional section */
		fz_query(p, id, 0x0100, 1, 0, 0, 1);
		fz_question(p, "host.test", 1);
		put8(p, 0);
		put16(p, 41);
		put16(p, 1232);
		put32(p, 0);
		put16(p, 200);
		put16(p, 10);
		fc->cat = "rdlength";
		fc->exp = EXP_FORMERR_OR_DROP;
		break;
	case 13:	/* name longer than 255 */
		fz_query(p, id, 0x0100, 1, 0, 0, 0);
		for (i = 0; i < 5; i++) {
			put8(p, 63);
			for (n = 0; n < 63; n++)
				put8(p, 'a');
		}
		put8(p, 0);
		put16(p, 1);
		put16(p, 1);
		fc->cat = "long-name";
		fc->exp = EXP_FORMERR_OR_DROP;
		break;
	case 14:	/* counts that lie */
		fz_query(p, id, 0x0100, 1, 0xffff, 0xffff, 0xffff);
		fz_question(p, "host.test", 1);
		fc->cat = "huge-counts";
		fc->exp = EXP_FORMERR_OR_DROP;
		break;
	default:	/* a valid question with bit flips */
		fz_query(p, id, 0x0100, 1, 0, 0, 1);
		fz_question(p, "host.test", 1);
		put_opt(p, 1232, 0, 0);
		for (i = rnd(4) + 1; i > 0; i--) {
			unsigned at = 12 + rnd((unsigned)p->len - 12);
			p->b[at] ^= (uint8_t)(1u << rnd(8));
		}
		fc->cat = "bitflip";
		fc->exp = EXP_SANE;
		break;
	}
}

static const char *
fuzz_check(const struct fuzzcase *fc, const struct pkt *p, const uint8_t *r,
    ssize_t rlen)
{
	struct reply rep;

	if (rlen < 0)
		return (fc->exp == EXP_FORMERR || fc->exp == EXP_NOTIMP) ?
		    "no reply" : NULL;
	if (fc->exp == EXP_NOREPLY)
		return "a reply";
	if (rlen < 12)
		return "a reply shorter than a header";
	parse_reply(r, (size_t)rlen, &rep);
	if (!rep.qr)
		return "a reply without QR";
	if (p->len >= 2 && (r[0] != p->b[0] || r[1] != p->b[1]))
		return "a reply with another ID";
	if (fc->exp == EXP_FORMERR && full_rcode(&rep) != 1)
		return rcode_name(full_rcode(&rep));
	if (fc->exp == EXP_NOTIMP && full_rcode(&rep) != 4)
		return rcode_name(full_rcode(&rep));
	if (fc->exp == EXP_FORMERR_OR_DROP && full_rcode(&rep) != 1)
		return rcode_name(full_rcode(&rep));
	return NULL;
}

static int
cmd_fuzz(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	static struct pkt p, s;
	static uint8_t fb[MAXMSG];
	struct qopt o;
	const char *syncname = "host.test", *src = NULL;
	unsigned long count, sent = 0, syncs = 0, replies = 0, late = 0;
	unsigned long rc[17] = { 0 }, viol = 0;
	int i, fd;

	if (argc < 4)
		die("usage: fuzz HOST PORT COUNT SEED [--sync NAME] "
		    "[--src ADDR]");
	count = (unsigned long)num_arg(argv[2], 1, 1000000, "count");
	rng_state = (uint64_t)num_arg(argv[3], 0, 0x7fffffffL, "seed") *
	    2654435761ULL + 1;
	for (i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--sync") == 0)
			syncname = argv[i + 1];
		else if (strcmp(argv[i], "--src") == 0)
			src = argv[i + 1];
		else
			die("unknown option %s", argv[i]);
	}
	parse_addr(argv[0], argv[1], &dst, &dlen);
	fd = udp_socket(&dst, src);
	for (unsigned long k = 0; k < count; k++) {
		struct fuzzcase fc;
		unsigned fid = (unsigned)(2 * k) & 0xffff;
		unsigned sid = (unsigned)(2 * k + 1) & 0xffff;
		ssize_t fuzz_len = -1, n;
		long long deadline;
		const char *why;
		int synced = 0;

		fuzz_make(&p, fid, &fc);
		if (sendto(fd, p.b, p.len, 0, (struct sockaddr *)&dst,
		    dlen) == -1)
			die("sendto: %s", strerror(errno));
		sent++;
		/* The sync query proves the packet was handled. */
		qopt_init(&o);
		o.id = sid;
		build_query(&s, syncname, 1, &o);
		if (sendto(fd, s.b, s.len, 0, (struct sockaddr *)&dst,
		    dlen) == -1)
			die("sendto: %s", strerror(errno));
		syncs++;
		deadline = now_ms() + 2000;
		while (!synced) {
			n = udp_recv(fd, rbuf, sizeof(rbuf), deadline, &dst);
			if (n < 0)
				break;
			if (n >= 12 && (unsigned)(rbuf[0] << 8 | rbuf[1]) == sid &&
			    (rbuf[2] & 0x80)) {
				synced = 1;
				if ((rbuf[3] & 0xf) != 0) {
					printf("violation #%lu sync query got "
					    "rcode %u\n", k, rbuf[3] & 0xf);
					viol++;
				}
			} else if (fuzz_len < 0) {
				/* Whatever comes before the sync answers it. */
				fuzz_len = n;
				memcpy(fb, rbuf, (size_t)n);
			} else
				late++;
		}
		if (!synced) {
			printf("dead: no answer to the sync query after "
			    "packet #%lu (%s, %zu bytes): ", k, fc.cat, p.len);
			print_hex(p.b, p.len);
			printf("sent=%lu syncs=%lu replies=%lu violations=%lu "
			    "alive=0\n", sent, syncs, replies, viol);
			close(fd);
			return 1;
		}
		if (fuzz_len >= 0) {
			replies++;
			if (fuzz_len >= 12) {
				struct reply r;
				parse_reply(fb, (size_t)fuzz_len, &r);
				rc[full_rcode(&r) > 16 ? 16 : full_rcode(&r)]++;
			}
		}
		if ((why = fuzz_check(&fc, &p, fb, fuzz_len)) != NULL) {
			viol++;
			if (viol <= 10) {
				printf("violation #%lu %s: expected %s, got %s;"
				    " packet ", k, fc.cat, expect_name[fc.exp],
				    why);
				print_hex(p.b, p.len);
			}
		}
	}
	close(fd);
	printf("sent=%lu syncs=%lu replies=%lu noreply=%lu formerr=%lu "
	    "notimp=%lu noerror=%lu servfail=%lu nxdomain=%lu refused=%lu "
	    "late=%lu violations=%lu alive=1\n", sent, syncs, replies,
	    sent - replies, rc[1], rc[4], rc[0], rc[2], rc[3], rc[5], late,
	    viol);
	return viol ? 1 : 0;
}

/* -------------------------------------------------------- JSON check */

struct js {
	const char *p, *end;
	const char *err;
	int	 depth;
};

static void
js_ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int js_value(struct js *);

static int
js_fail(struct js *j, const char *why)
{
	if (j->err == NULL)
		j->err = why;
	return -1;
}

/* Validate one UTF-8 sequence at j->p; advance. */
static int
js_utf8(struct js *j)
{
	const unsigned char *s = (const unsigned char *)j->p;
	size_t left = (size_t)(j->end - j->p), n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		n = 1, cp = s[0];
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return js_fail(j, "invalid UTF-8");
	if (n > left)
		return js_fail(j, "truncated UTF-8");
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return js_fail(j, "invalid UTF-8");
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return js_fail(j, "invalid UTF-8");
	j->p += n;
	return 0;
}

static int
js_string(struct js *j)
{
	if (j->p >= j->end || *j->p != '"')
		return js_fail(j, "expected a string");
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return js_fail(j, "raw control character in string");
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				break;
			c = (unsigned char)*j->p;
			if (c == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end ||
					    !isxdigit((unsigned char)j->p[i]))
						return js_fail(j,
						    "bad \\u escape");
				j->p += 5;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c))
				return js_fail(j, "bad escape in string");
			j->p++;
			continue;
		}
		if (c >= 0x80) {
			if (js_utf8(j) == -1)
				return -1;
			continue;
		}
		j->p++;
	}
	return js_fail(j, "unterminated string");
}

static int
js_number(struct js *j)
{
	const char *s = j->p;

	if (s < j->end && *s == '-')
		s++;
	if (s >= j->end || !isdigit((unsigned char)*s))
		return js_fail(j, "bad number");
	if (*s == '0')
		s++;
	else
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	if (s < j->end && *s == '.') {
		s++;
		if (s >= j->end || !isdigit((unsigned char)*s))
			return js_fail(j, "bad number fraction");
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	}
	if (s < j->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < j->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= j->end || !isdigit((unsigned char)*s))
			return js_fail(j, "bad number exponent");
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	}
	j->p = s;
	return 0;
}

static int
js_word(struct js *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return js_fail(j, "unexpected token");
	j->p += n;
	return 0;
}

/*
 * Object; when keys/kstart/klen are given (top level), record where each
 * key's raw text and value lie, and fail on duplicate keys.
 */
#define JS_MAXKEYS 64
struct js_keys {
	int	n;
	const char *k[JS_MAXKEYS], *v[JS_MAXKEYS];
	size_t	 kl[JS_MAXKEYS], vl[JS_MAXKEYS];
};

static int
js_object(struct js *j, struct js_keys *keys)
{
	j->p++;			/* '{' */
	js_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		const char *ks, *vs;

		js_ws(j);
		ks = j->p;
		if (js_string(j) == -1)
			return -1;
		if (keys) {
			size_t kl = (size_t)(j->p - ks) - 2;

			for (int i = 0; i < keys->n; i++)
				if (keys->kl[i] == kl &&
				    memcmp(keys->k[i], ks + 1, kl) == 0)
					return js_fail(j, "duplicate key");
			if (keys->n < JS_MAXKEYS) {
				keys->k[keys->n] = ks + 1;
				keys->kl[keys->n] = kl;
			}
		}
		js_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return js_fail(j, "expected ':'");
		j->p++;
		js_ws(j);
		vs = j->p;
		if (js_value(j) == -1)
			return -1;
		if (keys && keys->n < JS_MAXKEYS) {
			keys->v[keys->n] = vs;
			keys->vl[keys->n] = (size_t)(j->p - vs);
			keys->n++;
		}
		js_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return js_fail(j, "expected ',' or '}'");
	}
}

static int
js_array(struct js *j)
{
	j->p++;			/* '[' */
	js_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		js_ws(j);
		if (js_value(j) == -1)
			return -1;
		js_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return js_fail(j, "expected ',' or ']'");
	}
}

static int
js_value(struct js *j)
{
	int r;

	if (j->p >= j->end)
		return js_fail(j, "unexpected end of line");
	if (++j->depth > 64)
		return js_fail(j, "nested too deeply");
	switch (*j->p) {
	case '{':
		r = js_object(j, NULL);
		break;
	case '[':
		r = js_array(j);
		break;
	case '"':
		r = js_string(j);
		break;
	case 't':
		r = js_word(j, "true");
		break;
	case 'f':
		r = js_word(j, "false");
		break;
	case 'n':
		r = js_word(j, "null");
		break;
	default:
		r = js_number(j);
		break;
	}
	j->depth--;
	return r;
}

/* Parse one line as a top-level object.  NULL on success, or why. */
static const char *
js_line(const char *line, size_t len, struct js_keys *keys)
{
	struct js j = { line, line + len, NULL, 0 };

	keys->n = 0;
	js_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return "not a JSON object";
	j.depth = 1;
	if (js_object(&j, keys) == -1)
		return j.err;
	js_ws(&j);
	if (j.p != j.end)
		return "trailing characters after the object";
	return NULL;
}

static int
js_find(const struct js_keys *keys, const char *name)
{
	size_t nl = strlen(name);

	for (int i = 0; i < keys->n; i++)
		if (keys->kl[i] == nl && memcmp(keys->k[i], name, nl) == 0)
			return i;
	return -1;
}

static int
cmd_json(int argc, char **argv, int field_mode)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long ln = 0;
	struct js_keys keys;

	if (argc < (field_mode ? 2 : 1))
		die(field_mode ? "usage: jsonfield FILE FIELD" :
		    "usage: jsoncheck FILE [FIELD...]");
	if ((f = fopen(argv[0], "r")) == NULL)
		die("%s: %s", argv[0], strerror(errno));
	while ((n = getline(&line, &cap, f)) != -1) {
		const char *why;

		ln++;
		if (n == 0 || line[n - 1] != '\n') {
			if (!field_mode) {
				printf("line %lu: no newline at the end\n",
				    ln);
				return 1;
			}
		} else
			n--;
		if ((size_t)n != strlen(line) - (line[n] == '\n')) {
			printf("line %lu: NUL byte\n", ln);
			return 1;
		}
		if ((why = js_line(line, (size_t)n, &keys)) != NULL) {
			printf("line %lu: %s: %.*s\n", ln, why,
			    n > 300 ? 300 : (int)n, line);
			return 1;
		}
		if (field_mode) {
			int i = js_find(&keys, argv[1]);

			if (i < 0)
				printf("-\n");
			else if (keys.v[i][0] == '"')
				printf("%.*s\n", (int)keys.vl[i] - 2,
				    keys.v[i] + 1);
			else
				printf("%.*s\n", (int)keys.vl[i], keys.v[i]);
			continue;
		}
		for (int a = 1; a < argc; a++)
			if (js_find(&keys, argv[a]) < 0) {
				printf("line %lu: missing field \"%s\": %.*s\n",
				    ln, argv[a], n > 300 ? 300 : (int)n, line);
				return 1;
			}
	}
	free(line);
	fclose(f);
	if (!field_mode)
		printf("%lu lines ok\n", ln);
	return 0;
}

/* ------------------------------------------------------------- main */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dwq query HOST PORT NAME TYPE [--tcp] [--id N] [--rd 0|1]"
	    " [--cd 0|1]\n"
	    "                 [--edns SIZE|none] [--ednsver V] [--do] "
	    "[--opcode N] [--src ADDR] [--timeout MS] [--split]\n"
	    "       dwq udp|tcp HOST PORT HEX [--raw] [--src ADDR] [--timeout MS]\n"
	    "       dwq tcp-pipeline HOST PORT N NAME [--type T] "
	    "[--timeout MS]\n"
	    "       dwq tcp-idle HOST PORT MAXMS\n"
	    "       dwq tcp-hold HOST PORT N MS\n"
	    "       dwq tcp-flood HOST PORT COUNT SECONDS [--name NAME] "
	    "[--type T] [--class N]\n"
	    "                 [--edns SIZE|none] [--stall MS] [--hold MS]\n"
	    "       dwq tcp-seq HOST PORT NAME TYPE [NAME TYPE...] "
	    "[--edns SIZE|none] [--class N] [--timeout MS]\n"
	    "       dwq fuzz HOST PORT COUNT SEED [--sync NAME] [--src ADDR]\n"
	    "       dwq blackhole HOST PORT SECONDS\n"
	    "       dwq upstream HOST PORT SECONDS "
	    "echo|spoof|badonly|tc|big [SIZE]|slow [MS]|servfail|refused\n"
	    "       dwq jsoncheck FILE [FIELD...]\n"
	    "       dwq jsonfield FILE FIELD\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng_seed_random();
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (strcmp(cmd, "query") == 0)
		return cmd_query(argc, argv);
	if (strcmp(cmd, "udp") == 0)
		return cmd_raw(argc, argv, 0);
	if (strcmp(cmd, "tcp") == 0)
		return cmd_raw(argc, argv, 1);
	if (strcmp(cmd, "tcp-pipeline") == 0)
		return cmd_tcp_pipeline(argc, argv);
	if (strcmp(cmd, "tcp-idle") == 0)
		return cmd_tcp_idle(argc, argv);
	if (strcmp(cmd, "tcp-hold") == 0)
		return cmd_tcp_hold(argc, argv);
	if (strcmp(cmd, "tcp-flood") == 0)
		return cmd_tcp_flood(argc, argv);
	if (strcmp(cmd, "tcp-seq") == 0)
		return cmd_tcp_seq(argc, argv);
	if (strcmp(cmd, "fuzz") == 0)
		return cmd_fuzz(argc, argv);
	if (strcmp(cmd, "blackhole") == 0)
		return cmd_blackhole(argc, argv);
	if (strcmp(cmd, "upstream") == 0)
		return cmd_upstream(argc, argv);
	if (strcmp(cmd, "jsoncheck") == 0)
		return cmd_json(argc, argv, 0);
	if (strcmp(cmd, "jsonfield") == 0)
		return cmd_json(argc, argv, 1);
	usage();
	return 2;
}
