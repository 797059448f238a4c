/*
 * ipsetstat.c -- load one `format: ip` file into an ipset and say what it
 * cost; look addresses up in it; time lookups.
 *
 *   ipsetstat [--bench N] FILE [ADDRESS...]
 *
 * The file is read whole, each line parsed with ipset_parse_line() and
 * added with its line number as the value, then the set is built: that
 * is the load.  Prints "key: value" lines: lines, entries, v4, v6,
 * duplicates, errors, load_seconds (read, parse, add, build),
 * build_seconds (ipset_build() alone), memory (ipset_memory()), v4_ranges,
 * v6_ranges, v4_bytes_per_prefix and v6_bytes_per_prefix (what the set
 * holds for each family, index included), bytes_per_prefix (memory /
 * entries), rss_before / rss_after (VmRSS around the load, the file
 * buffer freed) and rss_per_entry; then one line per ADDRESS with the
 * lookup result.  The first 10 bad lines go to stderr as FILE:LINE:COL.
 *
 * --bench N times N lookups each of: addresses inside random prefixes of
 * the file (v4_hit_ns, v6_hit_ns), uniformly random IPv4 addresses and
 * random addresses in 2000::/3 (v4_random_ns, v6_random_ns); nanoseconds
 * per lookup, one thread, fixed seed.  bench/ipset-load runs it.
 *
 * Exit status: 0 when the file loaded, 1 when it could not be read or
 * memory ran out, 2 on usage errors.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipset.h"

#define REPORT_MAX	10

/* A prefix kept for the lookup benchmark. */
struct pfx {
	uint8_t		 addr[16];
	uint8_t		 plen;
	uint8_t		 v6;
};

static void
usage(void)
{
	fprintf(stderr, "usage: ipsetstat [--bench N] FILE [ADDRESS...]\n");
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS of this process in bytes, from /proc/self/status. */
static size_t
rss(void)
{
	char	 line[256];
	size_t	 kb = 0;
	FILE	*f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* The whole file into a malloc'ed buffer; NULL on error. */
static char *
read_file(const char *path, size_t *len)
{
	struct stat sb;
	char	*buf;
	size_t	 off = 0;
	ssize_t	 r;
	int	 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || (buf = malloc((size_t)sb.st_size + 1)) ==
	    NULL) {
		close(fd);
		return NULL;
	}
	while (off < (size_t)sb.st_size) {
		r = read(fd, buf + off, (size_t)sb.st_size - off);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	*len = off;
	return buf;
}

/*
 * Call fn for each line of buf (without its "\n"): line number, text.
 * A UTF-8 byte order mark at the start is skipped.
 */
static void
each_line(const char *buf, size_t len, void (*fn)(void *, uint32_t,
    const char *, size_t), void *arg)
{
	const char *p = buf, *end = buf + len, *nl;
	uint32_t lineno = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		fn(arg, ++lineno, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

struct load {
	const char	*path;
	struct ipset_builder *b;
	size_t		 lines, dups, errors;
	int		 nomem;
	struct pfx	*keep;		/* for --bench: every prefix */
	size_t		 nkeep, capkeep;
};

static void
load_line(void *arg, uint32_t lineno, const char *s, size_t n)
{
	struct load *l = arg;
	char	 why[IPSET_WHYSZ];
	uint8_t	 addr[16];
	unsigned plen;
	size_t	 col;
	int	 af, r;

	l->lines++;
	r = ipset_parse_line(s, n, &af, addr, &plen, &col, why, sizeof(why));
	if (r == 0)
		return;
	if (r == -1) {
		if (l->errors++ < REPORT_MAX)
			fprintf(stderr, "%s:%u:%zu: %s\n", l->path, lineno,
			    col, why);
		return;
	}
	switch (ipset_add(l->b, af, addr, plen, lineno)) {
	case IPSET_NEW:
		break;
	case IPSET_DUP:
		l->dups++;
		break;
	default:
		l->nomem = 1;
	}
}

static void
keep_line(void *arg, uint32_t lineno, const char *s, size_t n)
{
	struct load *l = arg;
	struct pfx *p;
	uint8_t	 addr[16];
	unsigned plen;
	int	 af;

	if (ipset_parse_line(s, n, &af, addr, &plen, NULL, NULL, 0) != 1)
		return;
	if (l->nkeep == l->capkeep) {
		l->capkeep = l->capkeep ? l->capkeep * 2 : 4096;
		if ((p = realloc(l->keep, l->capkeep * sizeof(*p))) == NULL) {
			fprintf(stderr, "ipsetstat: out of memory\n");
			exit(1);
		}
		l->keep = p;
	}
	p = &l->keep[l->nkeep++];
	memcpy(p->addr, addr, 16);
	p->plen = (uint8_t)plen;
	p->v6 = af == AF_INET6;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* An address inside p: its prefix, random host bits. */
static void
addr_in(const struct pfx *p, uint8_t *a)
{
	uint64_t r1 = rng(), r2 = rng();
	size_t	 len = p->v6 ? 16 : 4, k = p->plen / 8;

	memcpy(a, &r1, 8);
	memcpy(a + 8, &r2, 8);
	memcpy(a, p->addr, k);
	if (k < len && p->plen % 8)
		a[k] = (uint8_t)((p->addr[k] & (0xff00u >> (p->plen % 8))) |
		    (a[k] & (0xffu >> (p->plen % 8))));
}

/* Nanoseconds per lookup of the n addresses (16 bytes each) in a. */
static double
time_lookups(const struct ipset *s, int af, const uint8_t (*a)[16], size_t n)
{
	struct ipset_match m;
	volatile uint32_t sink = 0;
	double	 t0;
	size_t	 i;

	t0 = now();
	for (i = 0; i < n; i++)
		if (ipset_lookup(s, af, a[i], &m))
			sink += m.value;
	(void)sink;
	return (now() - t0) * 1e9 / (double)n;
}

static void
bench(const struct ipset *s, struct load *l, size_t n)
{
	uint8_t	(*a)[16];
	size_t	 v4 = 0, v6 = 0, i, j, *idx[2];
	int	 fam;

	if ((a = calloc(n, sizeof(*a))) == NULL ||
	    (idx[0] = calloc(l->nkeep + 1, sizeof(size_t))) == NULL ||
	    (idx[1] = calloc(l->nkeep + 1, sizeof(size_t))) == NULL) {
		fprintf(stderr, "ipsetstat: out of memory\n");
		exit(1);
	}
	for (i = 0; i < l->nkeep; i++) {
		if (l->keep[i].v6)
			idx[1][v6++] = i;
		else
			idx[0][v4++] = i;
	}
	for (fam = 0; fam < 2; fam++) {
		size_t	 have = fam ? v6 : v4;

		if (have > 0) {
			for (i = 0; i < n; i++) {
				j = idx[fam][rng() % have];
				addr_in(&l->keep[j], a[i]);
			}
			printf("%s_hit_ns: %.1f\n", fam ? "v6" : "v4",
			    time_lookups(s, fam ? AF_INET6 : AF_INET,
			    (const uint8_t (*)[16])a, n));
		}
		for (i = 0; i < n; i++) {
			uint64_t r1 = rng(), r2 = rng();

			memcpy(a[i], &r1, 8);
			memcpy(a[i] + 8, &r2, 8);
			if (fam)
				a[i][0] = 0x20 | (a[i][0] & 0x1f);
		}
		printf("%s_random_ns: %.1f\n", fam ? "v6" : "v4",
		    time_lookups(s, fam ? AF_INET6 : AF_INET,
		    (const uint8_t (*)[16])a, n));
	}
	free(idx[0]);
	free(idx[1]);
	free(a);
}

static void
lookup(const struct ipset *s, const char *text)
{
	struct ipset_match m;
	uint8_t	 a[16];
	char	 buf[IPSET_STRLEN];
	int	 af = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(af, text, a) != 1) {
		printf("%s: not an address\n", text);
		return;
	}
	if (!ipset_lookup(s, af, a, &m)) {
		printf("%s: no match\n", text);
		return;
	}
	printf("%s: %s line=%u\n", text, ipset_format(m.af, m.addr, m.plen,
	    buf, sizeof(buf)), m.value);
}

static double
per(size_t bytes, size_t n)
{
	return n ? (double)bytes / (double)n : 0.0;
}

int
main(int argc, char **argv)
{
	struct ipset_stats st;
	struct ipset *s;
	struct load l;
	size_t	 len, before, after, nbench = 0;
	double	 t0, t1, t2;
	char	*buf;
	int	 i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc)
			nbench = strtoul(argv[++i], NULL, 10);
		else
			usage();
	}
	if (i >= argc)
		usage();
	memset(&l, 0, sizeof(l));
	l.path = argv[i++];

	before = rss();
	t0 = now();
	if ((buf = read_file(l.path, &len)) == NULL) {
		fprintf(stderr, "ipsetstat: %s: cannot read\n", l.path);
		return 1;
	}
	if ((l.b = ipset_builder_new()) == NULL) {
		fprintf(stderr, "ipsetstat: out of memory\n");
		return 1;
	}
	each_line(buf, len, load_line, &l);
	if (l.nomem) {
		fprintf(stderr, "ipsetstat: out of memory\n");
		return 1;
	}
	t1 = now();
	if ((s = ipset_build(l.b)) == NULL) {
		fprintf(stderr, "ipsetstat: out of memory\n");
		return 1;
	}
	t2 = now();
	free(buf);
	after = rss();
	/* Read again for the benchmark's prefixes, past the measurements. */
	if (nbench > 0) {
		if ((buf = read_file(l.path, &len)) == NULL) {
			fprintf(stderr, "ipsetstat: %s: cannot read\n",
			    l.path);
			return 1;
		}
		each_line(buf, len, keep_line, &l);
		free(buf);
	}

	ipset_stats(s, &st);
	printf("lines: %zu\n", l.lines);
	printf("entries: %zu\n", ipset_count(s));
	printf("v4: %zu\n", st.v4);
	printf("v6: %zu\n", st.v6);
	printf("duplicates: %zu\n", l.dups);
	printf("errors: %zu\n", l.errors);
	printf("load_seconds: %.3f\n", t2 - t0);
	printf("build_seconds: %.3f\n", t2 - t1);
	printf("memory: %zu\n", ipset_memory(s));
	printf("v4_ranges: %zu\n", st.v4_ranges);
	printf("v6_ranges: %zu\n", st.v6_ranges);
	printf("v4_bytes_per_prefix: %.1f\n", per(st.v4_bytes, st.v4));
	printf("v6_bytes_per_prefix: %.1f\n", per(st.v6_bytes, st.v6));
	printf("bytes_per_prefix: %.1f\n", per(ipset_memory(s),
	    ipset_count(s)));
	printf("rss_before: %zu\n", before);
	printf("rss_after: %zu\n", after);
	printf("rss_per_entry: %.1f\n", after > before ?
	    per(after - before, ipset_count(s)) : 0.0);
	if (nbench > 0)
		bench(s, &l, nbench);
	for (; i < argc; i++)
		lookup(s, argv[i]);
	free(l.keep);
	ipset_free(s);
	return 0;
}
