/*
 * geo.c -- country and ASN lookups in MaxMind DB files (see geo.h).
 *
 * geo_open() maps the file with libmaxminddb, then checks it more than
 * libmaxminddb does at open: the search tree is walked depth first from
 * the root, and every distinct data record it points to is decoded in full
 * (MMDB_get_entry_data_list).  The value each record holds for the kind
 * of database goes into an open-addressing table keyed by the record's
 * offset in the data section, which is also the "already decoded" set.
 * A lookup is MMDB_lookup_sockaddr() and one probe in that table.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <maxminddb.h>

#include "geo.h"

#define GEO_SEPARATOR	16	/* zero bytes between tree and data */
#define GEO_MARKER_LEN	14	/* "\xab\xcd\xefMaxMind.com" */
#define GEO_EMPTY	UINT32_MAX	/* a free slot (offsets are less) */
#define GEO_GRAY	0xff	/* node on the current path of the walk */

#define GEO_SCHEMA_GEOIP2	0x01
#define GEO_SCHEMA_FLAT		0x02

/* One data record: its offset in the data section and its value. */
struct geo_slot {
	uint32_t	 off;
	uint32_t	 val;	/* c0 << 8 | c1, or the ASN; 0: none */
};

struct geo {
	MMDB_s		 mmdb;
	enum geo_kind	 kind;
	char		*path;
	unsigned	 schemas;	/* GEO_SCHEMA_* seen in records */
	struct geo_slot	*slots;
	uint32_t	 mask;		/* slots - 1 (slots: a power of 2) */
	struct geo_stats st;
};

/* A key path to a value, and the layout it belongs to. */
struct geo_path {
	const char	*keys[3];
	unsigned	 schema;
};

static const struct geo_path geo_country_paths[] = {
	{ { "country", "iso_code", NULL }, GEO_SCHEMA_GEOIP2 },
	{ { "registered_country", "iso_code", NULL }, GEO_SCHEMA_GEOIP2 },
	{ { "country_code", NULL }, GEO_SCHEMA_FLAT },
	{ { "country", NULL }, GEO_SCHEMA_FLAT },
	{ { NULL }, 0 }
};

static const struct geo_path geo_asn_paths[] = {
	{ { "autonomous_system_number", NULL }, GEO_SCHEMA_GEOIP2 },
	{ { "traits", "autonomous_system_number", NULL }, GEO_SCHEMA_GEOIP2 },
	{ { "asn", NULL }, GEO_SCHEMA_FLAT },
	{ { "as_number", NULL }, GEO_SCHEMA_FLAT },
	{ { NULL }, 0 }
};

static const uint8_t geo_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* State of geo_open()'s walk over the search tree. */
struct geo_verify {
	struct geo	*g;
	const uint8_t	*tree;		/* = file content */
	uint32_t	 nodes;		/* node_count */
	unsigned	 reclen;	/* bytes per node: 6, 7 or 8 */
	unsigned	 maxdepth;	/* 32 or 128 bits */
	uint32_t	 datasize;	/* data section, up to the marker */
	uint8_t		*height;	/* per node: 0 (unvisited), GEO_GRAY
					   (on the path), or its height */
	size_t		 used;		/* table slots in use */
	char		*err;
	size_t		 errsz;
};

static double
geo_elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The table. */

static uint32_t
geo_hash(uint32_t off)
{
	return off * 0x9e3779b1u;
}

static struct geo_slot *
geo_find(const struct geo *g, uint32_t off)
{
	uint32_t	 i;

	for (i = geo_hash(off) & g->mask;; i = (i + 1) & g->mask) {
		if (g->slots[i].off == off)
			return &g->slots[i];
		if (g->slots[i].off == GEO_EMPTY)
			return NULL;
	}
}

/* Make room for one more entry: keep the load at or below one half. */
static int
geo_table_reserve(struct geo_verify *v)
{
	struct geo	*g = v->g;
	struct geo_slot	*old = g->slots, *s;
	size_t		 oldn = (size_t)g->mask + 1, n, i;
	uint32_t	 j;

	if (g->slots != NULL && (v->used + 1) * 2 <= oldn)
		return 0;
	n = g->slots == NULL ? 256 : oldn * 2;
	if (n > ((size_t)1 << 31) ||
	    (s = malloc(n * sizeof(*s))) == NULL) {
		snprintf(v->err, v->errsz, "%s: out of memory", g->path);
		return -1;
	}
	for (i = 0; i < n; i++)
		s[i].off = GEO_EMPTY;
	g->slots = s;
	g->mask = (uint32_t)(n - 1);
	for (i = 0; old != NULL && i < oldn; i++) {
		if (old[i].off == GEO_EMPTY)
			continue;
		for (j = geo_hash(old[i].off) & g->mask;
		    s[j].off != GEO_EMPTY; j = (j + 1) & g->mask)
			;
		s[j] = old[i];
	}
	free(old);
	return 0;
}

/* Values. */

/* A country code: two ASCII letters, upper-cased; 0 if not one. */
static uint32_t
geo_cc_value(const MMDB_entry_data_s *d)
{
	const char	*s = d->utf8_string;
	char		 c0, c1;

	if (d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size != 2)
		return 0;
	c0 = s[0] & ~0x20;	/* ASCII upper case */
	c1 = s[1] & ~0x20;
	if (c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z')
		return 0;
	return (uint32_t)c0 << 8 | (uint32_t)c1;
}

/* An AS number: an unsigned number, "AS<n>" or "<n>"; 0 if not one. */
static uint32_t
geo_asn_value(const MMDB_entry_data_s *d, int *bad)
{
	const char	*s;
	uint64_t	 n = 0;
	uint32_t	 i, len;

	*bad = 0;
	switch (d->type) {
	case MMDB_DATA_TYPE_UINT16:
		return d->uint16;
	case MMDB_DATA_TYPE_UINT32:
		return d->uint32;
	case MMDB_DATA_TYPE_UINT64:
		if (d->uint64 <= UINT32_MAX)
			return (uint32_t)d->uint64;
		break;
	case MMDB_DATA_TYPE_INT32:
		if (d->int32 >= 0)
			return (uint32_t)d->int32;
		break;
	case MMDB_DATA_TYPE_UTF8_STRING:
		s = d->utf8_string;
		len = d->data_size;
		i = 0;
		if (len >= 2 && (s[0] == 'A' || s[0] == 'a') &&
		    (s[1] == 'S' || s[1] == 's'))
			i = 2;
		if (i == len || len - i > 10)
			break;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				break;
			n = n * 10 + (uint64_t)(s[i] - '0');
		}
		if (i == len && n <= UINT32_MAX)
			return (uint32_t)n;
		break;
	default:
		break;
	}
	*bad = 1;
	return 0;
}

/*
 * The value of the record at e for the kind of database: the first path
 * that yields one.  0 with *schema 0 when none does.  -1 on a decoding
 * error (err filled).
 */
static int
geo_record_value(struct geo_verify *v, MMDB_entry_s *e, uint32_t *val,
    unsigned *schema, int *bad)
{
	const struct geo_path *p;
	MMDB_entry_data_s d;
	int		 rc, isbad;

	p = v->g->kind == GEO_COUNTRY ? geo_country_paths : geo_asn_paths;
	*val = 0;
	*schema = 0;
	*bad = 0;
	for (; p->keys[0] != NULL; p++) {
		rc = MMDB_aget_value(e, &d, p->keys);
		if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
		    (rc == MMDB_SUCCESS && !d.has_data))
			continue;
		if (rc != MMDB_SUCCESS) {
			snprintf(v->err, v->errsz,
			    "%s: bad data record at offset %u: %s",
			    v->g->path, e->offset, MMDB_strerror(rc));
			return -1;
		}
		if (v->g->kind == GEO_COUNTRY) {
			/* IPinfo's "country" is a string, GeoIP2's a map. */
			if (d.type == MMDB_DATA_TYPE_MAP)
				continue;
			*val = geo_cc_value(&d);
			isbad = *val == 0;
		} else
			*val = geo_asn_value(&d, &isbad);
		if (*val != 0) {
			*schema = p->schema;
			*bad = 0;
			return 0;
		}
		*bad |= isbad;
	}
	return 0;
}

/*
 * A data record met in the tree: the first time, decode all of it, then
 * keep its value.
 */
static int
geo_verify_record(struct geo_verify *v, uint32_t off)
{
	struct geo	*g = v->g;
	MMDB_entry_s	 e;
	MMDB_entry_data_list_s *list = NULL;
	struct geo_slot	*s;
	uint32_t	 val, i;
	unsigned	 schema;
	int		 rc, bad;

	if (g->slots != NULL && geo_find(g, off) != NULL)
		return 0;
	e.mmdb = &g->mmdb;
	e.offset = off;
	rc = MMDB_get_entry_data_list(&e, &list);
	MMDB_free_entry_data_list(list);
	if (rc != MMDB_SUCCESS) {
		snprintf(v->err, v->errsz,
		    "%s: bad data record at offset %u: %s", g->path, off,
		    MMDB_strerror(rc));
		return -1;
	}
	if (geo_record_value(v, &e, &val, &schema, &bad) == -1)
		return -1;
	if (geo_table_reserve(v) == -1)
		return -1;
	for (i = geo_hash(off) & g->mask; g->slots[i].off != GEO_EMPTY;
	    i = (i + 1) & g->mask)
		;
	s = &g->slots[i];
	s->off = off;
	s->val = val;
	v->used++;
	g->st.records++;
	if (val != 0)
		g->st.with_value++;
	if (bad)
		g->st.bad_values++;
	g->schemas |= schema;
	return 0;
}

/* The two records of a node (record_size 24, 28 or 32 bits). */
static void
geo_read_node(const struct geo_verify *v, uint32_t node, uint32_t rec[2])
{
	const uint8_t	*p = v->tree + (uint64_t)node * v->reclen;

	switch (v->reclen) {
	case 6:
		rec[0] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		rec[1] = (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];
		break;
	case 7:
		rec[0] = (uint32_t)(p[3] & 0xf0) << 20 |
		    (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		rec[1] = (uint32_t)(p[3] & 0x0f) << 24 |
		    (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
		break;
	default:
		rec[0] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
		rec[1] = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		    (uint32_t)p[6] << 8 | p[7];
		break;
	}
}

/*
 * Visit node, reached at depth (bits consumed so far).  A node is visited
 * once; a node reached again (trees alias ::ffff:0:0/96 and 2002::/16 to
 * the IPv4 subtree) only checks that the paths below it still fit in the
 * address.  Recursion is at most maxdepth deep.
 */
static int
geo_verify_node(struct geo_verify *v, uint32_t node, unsigned depth)
{
	const char	*path = v->g->path;
	uint32_t	 rec[2], r, off;
	unsigned	 h = 1, i;

	if (v->height[node] == GEO_GRAY) {
		snprintf(v->err, v->errsz, "%s: corrupt search tree: "
		    "node %u is its own ancestor", path, node);
		return -1;
	}
	if (v->height[node] != 0) {
		if (depth + v->height[node] > v->maxdepth)
			goto deep;
		return 0;
	}
	if (depth >= v->maxdepth)
		goto deep;
	v->height[node] = GEO_GRAY;
	geo_read_node(v, node, rec);
	for (i = 0; i < 2; i++) {
		r = rec[i];
		if (r < v->nodes) {
			if (geo_verify_node(v, r, depth + 1) == -1)
				return -1;
			if (v->height[r] + 1u > h)
				h = v->height[r] + 1u;
		} else if (r > v->nodes) {
			if (r - v->nodes < GEO_SEPARATOR ||
			    (off = r - v->nodes - GEO_SEPARATOR) >=
			    v->datasize) {
				snprintf(v->err, v->errsz, "%s: corrupt "
				    "search tree: node %u points outside the "
				    "data section", path, node);
				return -1;
			}
			if (geo_verify_record(v, off) == -1)
				return -1;
		}
		/* r == nodes: no data for this network */
	}
	v->height[node] = (uint8_t)h;
	return 0;
deep:
	snprintf(v->err, v->errsz, "%s: corrupt search tree: a path is "
	    "longer than %u bits", path, v->maxdepth);
	return -1;
}

/*
 * Nodes the walk from the root did not reach are never used by a lookup,
 * but a record of theirs pointing outside the data section, or back to
 * the root (a loop, were it reached), means the tree is not what its
 * writer meant: refuse it too.
 */
static int
geo_verify_unreached(struct geo_verify *v)
{
	uint32_t	 node, rec[2];
	unsigned	 i;

	for (node = 0; node < v->nodes; node++) {
		if (v->height[node] != 0)
			continue;
		v->g->st.unreached++;
		geo_read_node(v, node, rec);
		for (i = 0; i < 2; i++) {
			if (rec[i] == 0) {
				snprintf(v->err, v->errsz, "%s: corrupt search "
				    "tree: node %u (not reachable) points back "
				    "to the root", v->g->path, node);
				return -1;
			}
			if (rec[i] <= v->nodes)
				continue;
			if (rec[i] - v->nodes < GEO_SEPARATOR ||
			    rec[i] - v->nodes - GEO_SEPARATOR >= v->datasize) {
				snprintf(v->err, v->errsz, "%s: corrupt search "
				    "tree: node %u (not reachable) points "
				    "outside the data section", v->g->path,
				    node);
				return -1;
			}
		}
	}
	return 0;
}

/* Check the metadata against the file and walk the tree. */
static int
geo_verify(struct geo *g, char *err, size_t errsz)
{
	struct geo_verify v;
	const MMDB_s	*m = &g->mmdb;
	MMDB_entry_data_list_s *list = NULL;
	uint64_t	 treesize, marker;
	int		 rc;

	memset(&v, 0, sizeof(v));
	v.g = g;
	v.err = err;
	v.errsz = errsz;
	rc = MMDB_get_metadata_as_entry_data_list(m, &list);
	MMDB_free_entry_data_list(list);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errsz, "%s: not a MaxMind DB file "
		    "(metadata: %s)", g->path, MMDB_strerror(rc));
		return -1;
	}
	if ((m->metadata.ip_version != 4 && m->metadata.ip_version != 6) ||
	    (m->metadata.record_size != 24 && m->metadata.record_size != 28 &&
	    m->metadata.record_size != 32) || m->metadata.node_count == 0) {
		snprintf(err, errsz, "%s: not a MaxMind DB file (metadata: "
		    "ip_version %u, record_size %u, node_count %u)", g->path,
		    m->metadata.ip_version, m->metadata.record_size,
		    m->metadata.node_count);
		return -1;
	}
	v.tree = m->file_content;
	v.nodes = m->metadata.node_count;
	v.reclen = m->metadata.record_size / 4;
	v.maxdepth = m->metadata.ip_version == 4 ? 32 : 128;
	treesize = (uint64_t)v.nodes * v.reclen;
	marker = (uint64_t)(m->metadata_section - m->file_content) -
	    GEO_MARKER_LEN;
	if (treesize + GEO_SEPARATOR > marker ||
	    marker - treesize - GEO_SEPARATOR >= GEO_EMPTY) {
		snprintf(err, errsz, "%s: not a MaxMind DB file (the search "
		    "tree of %u nodes does not fit in the file)", g->path,
		    v.nodes);
		return -1;
	}
	v.datasize = (uint32_t)(marker - treesize - GEO_SEPARATOR);
	if ((v.height = calloc(v.nodes, 1)) == NULL) {
		snprintf(err, errsz, "%s: out of memory", g->path);
		return -1;
	}
	rc = geo_verify_node(&v, 0, 0);
	if (rc == 0)
		rc = geo_verify_unreached(&v);
	free(v.height);
	if (rc == -1)
		return -1;
	g->st.nodes = v.nodes;
	g->st.ip_version = m->metadata.ip_version;
	g->st.memory = g->slots == NULL ? 0 :
	    ((size_t)g->mask + 1) * sizeof(struct geo_slot);
	return 0;
}

/* Why a database has no usable record, naming the keys looked for. */
static void
geo_no_values(const struct geo *g, char *err, size_t errsz)
{
	const char	*type = g->mmdb.metadata.database_type;

	if (type == NULL)
		type = "?";
	if (g->kind == GEO_COUNTRY)
		snprintf(err, errsz, "%s: no record has a country code "
		    "(looked for country.iso_code, "
		    "registered_country.iso_code, country_code, country; "
		    "database type \"%s\")", g->path, type);
	else
		snprintf(err, errsz, "%s: no record has an AS number (looked "
		    "for autonomous_system_number, "
		    "traits.autonomous_system_number, asn, as_number; "
		    "database type \"%s\")", g->path, type);
}

/* Is path a non-empty regular file we can read?  -1 with err if not. */
static int
geo_check_file(const char *path, char *err, size_t errsz)
{
	struct stat	 sb;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errsz, "%s: %s", path, strerror(EISDIR));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		return -1;
	}
	if (sb.st_size == 0) {
		snprintf(err, errsz, "%s: not a MaxMind DB file (empty file)",
		    path);
		return -1;
	}
	return 0;
}

struct geo *
geo_open(const char *path, enum geo_kind kind, char *err, size_t errsz)
{
	struct geo	*g;
	struct timespec	 t0;
	int		 rc;

	if (geo_check_file(path, err, errsz) == -1)
		return NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->path = strdup(path)) == NULL) {
		free(g);
		snprintf(err, errsz, "%s: out of memory", path);
		return NULL;
	}
	g->kind = kind;
	errno = 0;
	if ((rc = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb)) != MMDB_SUCCESS) {
		if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) &&
		    errno != 0)
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		else if (rc == MMDB_OUT_OF_MEMORY_ERROR)
			snprintf(err, errsz, "%s: out of memory", path);
		else
			snprintf(err, errsz, "%s: not a MaxMind DB file (%s)",
			    path, MMDB_strerror(rc));
		free(g->path);
		free(g);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (geo_verify(g, err, errsz) == -1)
		goto fail;
	g->st.verify_seconds = geo_elapsed(&t0);
	if (g->st.with_value == 0) {
		geo_no_values(g, err, errsz);
		goto fail;
	}
	return g;
fail:
	geo_close(g);
	return NULL;
}

void
geo_close(struct geo *g)
{
	if (g == NULL)
		return;
	MMDB_close(&g->mmdb);
	free(g->slots);
	free(g->path);
	free(g);
}

/* Lookups. */

/* The value for a sockaddr: 0 with GEO_UNKNOWN when there is none. */
static enum geo_result
geo_lookup(const struct geo *g, const struct sockaddr *sa, uint32_t *val,
    const char **why)
{
	MMDB_lookup_result_s r;
	struct sockaddr_in sin;
	const struct geo_slot *s;
	const uint8_t	*a6;
	int		 mmerr = MMDB_SUCCESS;

	*val = 0;
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		if (why != NULL)
			*why = "address family not supported";
		return GEO_ERROR;
	}
	/*
	 * ::ffff:a.b.c.d reaches a.b.c.d (an AF_INET6 socket connects to it
	 * over IPv4), so it is that address, whether or not the database
	 * aliases ::ffff:0:0/96: an AAAA record must not dodge a country.
	 */
	if (sa->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a6, geo_v4mapped, sizeof(geo_v4mapped)) == 0) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			memcpy(&sin.sin_addr, a6 + 12, 4);
			sa = (const struct sockaddr *)&sin;
		}
	}
	r = MMDB_lookup_sockaddr(&g->mmdb, sa, &mmerr);
	if (mmerr == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return GEO_UNKNOWN;
	if (mmerr != MMDB_SUCCESS) {
		if (why != NULL)
			*why = MMDB_strerror(mmerr);
		return GEO_ERROR;
	}
	if (!r.found_entry)
		return GEO_UNKNOWN;
	/* Every record the tree can reach was decoded at open. */
	if (g->slots == NULL || (s = geo_find(g, r.entry.offset)) == NULL) {
		if (why != NULL)
			*why = "lookup reached a data record not verified "
			    "at open";
		return GEO_ERROR;
	}
	if (s->val == 0)
		return GEO_UNKNOWN;
	*val = s->val;
	return GEO_FOUND;
}

/* A sockaddr for family af and its address bytes; NULL if af is neither. */
static const struct sockaddr *
geo_sockaddr(struct sockaddr_storage *ss, int af, const uint8_t *addr)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
	} else if (af == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
	} else
		return NULL;
	return (const struct sockaddr *)ss;
}

enum geo_result
geo_country(const struct geo *g, const struct sockaddr *sa, char cc[3],
    const char **why)
{
	enum geo_result	 res;
	uint32_t	 val;

	cc[0] = '\0';
	if (g->kind != GEO_COUNTRY) {
		if (why != NULL)
			*why = "not a country database";
		return GEO_ERROR;
	}
	if ((res = geo_lookup(g, sa, &val, why)) != GEO_FOUND)
		return res;
	cc[0] = (char)(val >> 8);
	cc[1] = (char)(val & 0xff);
	cc[2] = '\0';
	return GEO_FOUND;
}

enum geo_result
geo_country_addr(const struct geo *g, int af, const uint8_t *addr,
    char cc[3], const char **why)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa;

	if ((sa = geo_sockaddr(&ss, af, addr)) == NULL) {
		cc[0] = '\0';
		if (why != NULL)
			*why = "address family not supported";
		return GEO_ERROR;
	}
	return geo_country(g, sa, cc, why);
}

enum geo_result
geo_asn(const struct geo *g, const struct sockaddr *sa, uint32_t *asn,
    const char **why)
{
	*asn = 0;
	if (g->kind != GEO_ASN) {
		if (why != NULL)
			*why = "not an ASN database";
		return GEO_ERROR;
	}
	return geo_lookup(g, sa, asn, why);
}

enum geo_result
geo_asn_addr(const struct geo *g, int af, const uint8_t *addr,
    uint32_t *asn, const char **why)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa;

	if ((sa = geo_sockaddr(&ss, af, addr)) == NULL) {
		*asn = 0;
		if (why != NULL)
			*why = "address family not supported";
		return GEO_ERROR;
	}
	return geo_asn(g, sa, asn, why);
}

/* Accessors. */

const char *
geo_schema(const struct geo *g)
{
	if (g->schemas == (GEO_SCHEMA_GEOIP2 | GEO_SCHEMA_FLAT))
		return "mixed";
	return g->schemas == GEO_SCHEMA_FLAT ? "flat" : "geoip2";
}

uint64_t
geo_build_epoch(const struct geo *g)
{
	return g->mmdb.metadata.build_epoch;
}

const char *
geo_database_type(const struct geo *g)
{
	return g->mmdb.metadata.database_type != NULL ?
	    g->mmdb.metadata.database_type : "";
}

enum geo_kind
geo_kind(const struct geo *g)
{
	return g->kind;
}

const char *
geo_path(const struct geo *g)
{
	return g->path;
}

void
geo_stats(const struct geo *g, struct geo_stats *st)
{
	*st = g->st;
}

const char *
geo_kind_name(enum geo_kind kind)
{
	return kind == GEO_ASN ? "asn" : "country";
}

int
geo_valid_cc(const char *s)
{
	if (strcasecmp(s, "unknown") == 0)
		return 1;
	return ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) &&
	    ((s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= 'a' && s[1] <= 'z')) &&
	    s[2] == '\0';
}
