/*
 * feedstat.c -- load one feed and say what it cost; look names up in it.
 *
 *   feedstat [--format F] [--match M] [--lines] FILE [NAME...]
 *	F: auto (default), plain, hosts, rpz, adblock
 *	M: subdomains (default), exact
 *	--lines: track line numbers (what --explain pays for)
 *
 * Prints "key: value" lines: format, lines, entries, errors, duplicates,
 * load_seconds, memory (bytes the compiled set says it holds),
 * rss_before / rss_after (VmRSS of this process around the load, bytes)
 * and rss_per_entry; then one line per NAME with the lookup result.  The
 * bad lines the loader reports go to stderr.  bench/feed-load runs it.
 *
 * Exit status: 0 when the feed loaded, 1 when it could not be read, 2 on
 * usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "wire.h"

static const char *const actions[] = {
	"listed", "exception", "nxdomain", "nodata", "passthru", "drop",
	"override"
};

static const char *const scopes[] = { "?", "exact", "below", "both" };

static void
usage(void)
{
	fprintf(stderr, "usage: feedstat [--format F] [--match M] [--lines] "
	    "FILE [NAME...]\n");
	exit(2);
}

static void
report(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
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

/* "www.Example.com." to lower-case wire form; -1 when it is not a name. */
static int
to_wire(const char *s, uint8_t *out, size_t *outlen)
{
	size_t	 pos = 0, n = strlen(s), i = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	while (i < n) {
		size_t	 l = strcspn(s + i, ".");

		if (l > n - i)
			l = n - i;
		if (l == 0 || l > 63 || pos + l + 2 > DNS_MAX_NAME)
			return -1;
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, s + i, l);
		pos += l;
		i += l + 1;
	}
	out[pos++] = 0;
	wire_name_lower(out, pos);
	*outlen = pos;
	return 0;
}

static void
print_rr(const struct feed_rr *rr)
{
	char	 buf[WIRE_NAME_STRLEN];

	if (rr->type == 1 && rr->rdlen == 4)
		printf(" A=%u.%u.%u.%u", rr->rdata[0], rr->rdata[1],
		    rr->rdata[2], rr->rdata[3]);
	else if (rr->type == 5) {
		wire_name_to_str(rr->rdata, rr->rdlen, buf, sizeof(buf));
		printf(" CNAME=%s", buf);
	} else
		printf(" type%u/%u", rr->type, rr->rdlen);
	printf("/%u", rr->ttl);
}

static void
lookup(const struct feed *f, const char *name)
{
	struct feed_hit hit;
	uint8_t	 wire[DNS_MAX_NAME];
	char	 buf[WIRE_NAME_STRLEN];
	size_t	 len, i;

	if (to_wire(name, wire, &len) == -1) {
		printf("%s: not a name\n", name);
		return;
	}
	if (!feed_lookup(f, wire, len, &hit)) {
		printf("%s: no match\n", name);
		return;
	}
	wire_name_to_str(wire + hit.offset, len - hit.offset, buf,
	    sizeof(buf));
	printf("%s: %s entry=%s scope=%s line=%u", name, actions[hit.action],
	    buf, scopes[hit.scope], hit.line);
	for (i = 0; i < hit.nrrs; i++)
		print_rr(&hit.rrs[i]);
	printf("\n");
}

static enum feed_format
parse_format(const char *s)
{
	static const enum feed_format all[] = {
		FEED_AUTO, FEED_PLAIN, FEED_HOSTS, FEED_RPZ, FEED_ADBLOCK, FEED_IP
	};
	size_t	 i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, feed_format_name(all[i])) == 0)
			return all[i];
	usage();
	return FEED_AUTO;
}

int
main(int argc, char **argv)
{
	struct config_feed fc;
	struct feed_stats st;
	struct feed *f;
	char	 err[512];
	size_t	 before, after;
	int	 i, track = 0;

	memset(&fc, 0, sizeof(fc));
	fc.id = "feedstat";
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			fc.format = parse_format(argv[++i]);
		else if (strcmp(argv[i], "--match") == 0 && i + 1 < argc) {
			if (strcmp(argv[++i], "exact") == 0)
				fc.match = FEED_MATCH_EXACT;
			else if (strcmp(argv[i], "subdomains") != 0)
				usage();
		} else if (strcmp(argv[i], "--lines") == 0)
			track = 1;
		else
			usage();
	}
	if (i >= argc)
		usage();
	fc.path = argv[i++];

	before = rss();
	f = feed_load(&fc, track, &st, report, NULL, err, sizeof(err));
	after = rss();
	if (f == NULL) {
		fprintf(stderr, "feedstat: %s\n", err);
		return 1;
	}
	printf("format: %s\n", feed_format_name(st.format));
	printf("lines: %zu\n", st.lines);
	printf("entries: %zu\n", st.entries);
	printf("errors: %zu\n", st.errors);
	printf("duplicates: %zu\n", st.duplicates);
	printf("load_seconds: %.3f\n", st.load_seconds);
	printf("memory: %zu\n", st.memory);
	printf("rss_before: %zu\n", before);
	printf("rss_after: %zu\n", after);
	printf("rss_per_entry: %.1f\n", st.entries ?
	    (double)(after - before) / (double)st.entries : 0.0);
	for (; i < argc; i++)
		lookup(f, argv[i]);
	feed_free(f);
	return 0;
}
