/*
 * domset.c -- a compact immutable set of domain names, matched by suffix.
 *
 * See domset.h for the layout.  Memory is what matters at feed scale (a
 * million names must cost under 40 bytes each), so a record is its wire
 * name plus one byte, and the index is 4 bytes a slot.  Correctness never
 * depends on the hash: a candidate is accepted only when its bytes equal
 * the probed name.
 */
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

#include "domset.h"
#include "wire.h"

/*
 * Bytes kept after the last record, so that comparing a probed name of up
 * to 255 bytes against any record never reads outside the arena.
 */
#define ARENA_PAD	(DNS_MAX_NAME + 1)
#define MAX_LABELS	128

/* Flags byte: scope bits, then 3 bits of action per scope. */
#define ACT_SHIFT(scope)	((scope) == DOMSET_EXACT ? 2 : 5)

/* wyhash's constants; several of their bytes are >= 0x80, see hash_label. */
#define H_SEED	0xa0761d6478bd642fULL
#define H_P1	0xe7037ed1a0b428dbULL
#define H_P2	0x8ebc6af09c88c6e3ULL

struct domset_build {
	uint8_t		*arena;
	size_t		 alen, acap;
	uint64_t	*slots;		/* hash << 32 | (rec + 1); 0 = empty */
	size_t		 nslots;	/* power of two */
	size_t		 count;
	int		 track;
};

struct domset {
	uint8_t		*arena;
	size_t		 alen, acap;
	uint32_t	*slots;		/* tag | (rec + 1); 0 = empty */
	size_t		 nslots;
	uint32_t	 offmask;	/* low bits: rec + 1; the rest: tag */
	size_t		 count;
	int		 track;
};

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * Mix one label (its length byte and characters) into h, 16 bytes a
 * step.  A zero multiplicand would drop h, which needs a word equal to
 * H_P1; stored names are ASCII and H_P1 has bytes >= 0x80, so only a
 * hostile query name can do it, and all it gets is a slower miss.
 */
static uint64_t
hash_label(uint64_t h, const uint8_t *lab)
{
	size_t	 n = (size_t)lab[0] + 1, i, k;

	for (i = 0; i < n; i += 16) {
		uint8_t	 b[16] = { 0 };
		uint64_t w0, w1;

		k = n - i < 16 ? n - i : 16;
		memcpy(b, lab + i, k);
		memcpy(&w0, b, 8);
		memcpy(&w1, b + 8, 8);
		h = mum(w0 ^ H_P1, w1 ^ h ^ H_P2);
	}
	return h;
}

static inline uint32_t
hash_fold(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

/*
 * Record where each label of the wire name starts.  Returns the number of
 * labels (0 for the root), -1 when the name is malformed.
 */
static int
name_labels(const uint8_t *name, size_t len, uint8_t *starts)
{
	size_t	 pos = 0;
	int	 n = 0;

	if (len == 0 || len > DNS_MAX_NAME)
		return -1;
	while (pos < len) {
		uint8_t	 l = name[pos];

		if (l == 0)
			return pos == len - 1 ? n : -1;
		if (l > 63 || n == MAX_LABELS - 1)
			return -1;
		starts[n++] = (uint8_t)pos;
		pos += (size_t)l + 1;
	}
	return -1;
}

uint32_t
domset_hash(const uint8_t *name, size_t len)
{
	uint8_t	 starts[MAX_LABELS];
	uint64_t h = H_SEED;
	int	 n, i;

	n = name_labels(name, len, starts);
	for (i = n - 1; i >= 0; i--)
		h = hash_label(h, name + starts[i]);
	return hash_fold(h);
}

static size_t
slots_for(size_t n)
{
	size_t	 s = 16;

	while (s / 4 * 3 < n)
		s *= 2;
	return s;
}

/*
 * Big buffers (arena, indexes) are mapped directly, not malloc'ed: their
 * pages go back to the kernel the moment they are freed or shrunk, and
 * glibc's sliding mmap threshold (raised by every large free) cannot put
 * the next feed's buffers on the brk heap, where a reload would leave
 * them resident.  mremap grows the arena without copying.
 */
static void *
map_new(size_t n)
{
	void	*p;

	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, n, MADV_HUGEPAGE);
	return p;
}

static void *
map_resize(void *p, size_t old, size_t n)
{
	p = mremap(p, old, n, MREMAP_MAYMOVE);
	return p == MAP_FAILED ? NULL : p;
}

static void
map_free(void *p, size_t n)
{
	if (p != NULL)
		munmap(p, n);
}

static size_t
rec_hdr(int track)
{
	return track ? 5 : 1;
}

struct domset_build *
domset_build_new(size_t hint, int track_lines)
{
	struct domset_build *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->track = track_lines;
	b->nslots = slots_for(hint);
	/* About 26 bytes a name for typical lists; grown as needed. */
	b->acap = hint * 16 + 4096;
	b->arena = map_new(b->acap);
	b->slots = map_new(b->nslots * sizeof(uint64_t));
	if (b->arena == NULL || b->slots == NULL) {
		domset_build_free(b);
		return NULL;
	}
	return b;
}

void
domset_build_free(struct domset_build *b)
{
	if (b == NULL)
		return;
	map_free(b->arena, b->acap);
	map_free(b->slots, b->nslots * sizeof(uint64_t));
	free(b);
}

size_t
domset_build_count(const struct domset_build *b)
{
	return b->count;
}

static int
build_grow_index(struct domset_build *b)
{
	size_t	 n = b->nslots * 2, i, j;
	uint64_t *s;

	if ((s = map_new(n * sizeof(uint64_t))) == NULL)
		return -1;
	for (i = 0; i < b->nslots; i++) {
		if (b->slots[i] == 0)
			continue;
		j = (b->slots[i] >> 32) & (n - 1);
		while (s[j] != 0)
			j = (j + 1) & (n - 1);
		s[j] = b->slots[i];
	}
	map_free(b->slots, b->nslots * sizeof(uint64_t));
	b->slots = s;
	b->nslots = n;
	return 0;
}

static enum domset_add
build_append(struct domset_build *b, const uint8_t *name, size_t len,
    unsigned flags, uint32_t line, uint32_t *rec)
{
	size_t	 hdr = rec_hdr(b->track), need = b->alen + hdr + len + ARENA_PAD;
	uint8_t	*p;

	/* Slots hold rec + 1 in 32 bits. */
	if (b->alen + hdr + len >= UINT32_MAX)
		return DOMSET_ERR_SIZE;
	if (need > b->acap) {
		size_t	 cap = b->acap * 2 > need ? b->acap * 2 : need;

		if ((p = map_resize(b->arena, b->acap, cap)) == NULL)
			return DOMSET_ERR_MEM;
		b->arena = p;
		b->acap = cap;
	}
	p = b->arena + b->alen;
	p[0] = (uint8_t)flags;
	if (b->track)
		memcpy(p + 1, &line, 4);
	memcpy(p + hdr, name, len);
	*rec = (uint32_t)b->alen;
	b->alen += hdr + len;
	return DOMSET_NEW;
}

static unsigned
flags_set(unsigned f, unsigned scope, unsigned action)
{
	unsigned bit;

	for (bit = DOMSET_EXACT; bit <= DOMSET_BELOW; bit <<= 1) {
		if ((scope & bit) == 0)
			continue;
		f |= bit;
		f &= ~(7u << ACT_SHIFT(bit));
		f |= (action & 7) << ACT_SHIFT(bit);
	}
	return f;
}

void
domset_build_prefetch(const struct domset_build *b, uint32_t h)
{
	__builtin_prefetch(&b->slots[h & (b->nslots - 1)]);
}

enum domset_add
domset_build_add(struct domset_build *b, const uint8_t *name, size_t len,
    uint32_t h, unsigned scope, unsigned action, uint32_t line,
    uint32_t *rec, unsigned *had)
{
	size_t	 hdr = rec_hdr(b->track), i;
	uint32_t r;
	enum domset_add res;

	if ((b->count + 1) > b->nslots / 4 * 3 && build_grow_index(b) == -1)
		return DOMSET_ERR_MEM;
	for (i = h & (b->nslots - 1); b->slots[i] != 0;
	    i = (i + 1) & (b->nslots - 1)) {
		unsigned f, fresh;

		if ((uint32_t)(b->slots[i] >> 32) != h)
			continue;
		r = (uint32_t)b->slots[i] - 1;
		if (memcmp(b->arena + r + hdr, name, len) != 0)
			continue;
		*rec = r;
		f = b->arena[r];
		*had = f & 3;
		if ((fresh = scope & ~f & 3) == 0)
			return DOMSET_DUP;
		b->arena[r] = (uint8_t)flags_set(f, fresh, action);
		return DOMSET_ADDED;
	}
	res = build_append(b, name, len, flags_set(0, scope, action), line, &r);
	if (res != DOMSET_NEW)
		return res;
	b->slots[i] = (uint64_t)h << 32 | (r + 1);
	b->count++;
	*rec = r;
	*had = 0;
	return DOMSET_NEW;
}

unsigned
domset_build_action(const struct domset_build *b, uint32_t rec,
    unsigned scope)
{
	return (b->arena[rec] >> ACT_SHIFT(scope)) & 7;
}

void
domset_build_set_action(struct domset_build *b, uint32_t rec, unsigned scope,
    unsigned action)
{
	b->arena[rec] = (uint8_t)flags_set(b->arena[rec], scope, action);
}

/* Bits needed to hold v (v > 0). */
static unsigned
bits_for(uint64_t v)
{
	return 64 - (unsigned)__builtin_clzll(v);
}

struct domset *
domset_finish(struct domset_build *b)
{
	struct domset *s;
	size_t	 i, j, mask;
	uint8_t	*a;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->count = b->count;
	s->track = b->track;
	s->alen = b->alen;
	/* The tag takes whatever bits the largest offset + 1 leaves. */
	i = bits_for(b->alen + 1);
	s->offmask = i >= 32 ? UINT32_MAX : ((uint32_t)1 << i) - 1;
	s->nslots = slots_for(b->count);
	s->slots = map_new(s->nslots * sizeof(uint32_t));
	if (s->slots == NULL)
		goto fail;
	mask = s->nslots - 1;
	for (i = 0; i < b->nslots; i++) {
		uint32_t h = (uint32_t)(b->slots[i] >> 32);

		if (b->slots[i] == 0)
			continue;
		for (j = h & mask; s->slots[j] != 0; j = (j + 1) & mask)
			;
		s->slots[j] = (h & ~s->offmask) | (uint32_t)b->slots[i];
	}
	/* Give back the slack of the last doubling; keep the pad. */
	s->acap = b->acap;
	if ((a = map_resize(b->arena, b->acap, b->alen + ARENA_PAD)) != NULL) {
		b->arena = a;
		s->acap = b->alen + ARENA_PAD;
	}
	memset(b->arena + b->alen, 0, ARENA_PAD);
	s->arena = b->arena;
	b->arena = NULL;
	domset_build_free(b);
	return s;
fail:
	domset_build_free(b);
	domset_free(s);
	return NULL;
}

/* The record holding name (hash h), or UINT32_MAX. */
static uint32_t
set_probe(const struct domset *s, const uint8_t *name, size_t len, uint32_t h)
{
	size_t	 mask = s->nslots - 1, i, hdr = rec_hdr(s->track);
	uint32_t tag = h & ~s->offmask, v, r;

	for (i = h & mask; (v = s->slots[i]) != 0; i = (i + 1) & mask) {
		if ((v & ~s->offmask) != tag)
			continue;
		r = (v & s->offmask) - 1;
		if (memcmp(s->arena + r + hdr, name, len) == 0)
			return r;
	}
	return UINT32_MAX;
}

static void
match_fill(const struct domset *s, uint32_t r, size_t offset, unsigned want,
    struct domset_match *m)
{
	unsigned f = s->arena[r], other = want ^ 3;

	m->offset = offset;
	m->rec = r;
	m->scope = want;
	m->scopes = f & 3;
	m->action = (f >> ACT_SHIFT(want)) & 7;
	m->other_action = (f & other) ? (f >> ACT_SHIFT(other)) & 7 : 0;
	m->line = 0;
	if (s->track)
		memcpy(&m->line, s->arena + r + 1, 4);
}

int
domset_lookup(const struct domset *s, const uint8_t *name, size_t namelen,
    struct domset_match *m)
{
	uint8_t	 starts[MAX_LABELS];
	uint32_t hs[MAX_LABELS];
	uint64_t h = H_SEED;
	int	 n, i;

	if (s == NULL || s->count == 0)
		return 0;
	if ((n = name_labels(name, namelen, starts)) <= 0)
		return 0;	/* malformed, or the root: never listed */
	for (i = n - 1; i >= 0; i--) {
		h = hash_label(h, name + starts[i]);
		hs[i] = hash_fold(h);
	}
	/* The name itself (exact entries), then each ancestor (below). */
	for (i = 0; i < n; i++) {
		unsigned want = i == 0 ? DOMSET_EXACT : DOMSET_BELOW;
		uint32_t r;

		r = set_probe(s, name + starts[i], namelen - starts[i], hs[i]);
		if (r != UINT32_MAX && (s->arena[r] & want)) {
			match_fill(s, r, starts[i], want, m);
			return 1;
		}
	}
	return 0;
}

size_t
domset_count(const struct domset *s)
{
	return s->count;
}

size_t
domset_memory(const struct domset *s)
{
	return sizeof(*s) + s->acap + s->nslots * sizeof(uint32_t);
}

void
domset_free(struct domset *s)
{
	if (s == NULL)
		return;
	map_free(s->arena, s->acap);
	map_free(s->slots, s->nslots * sizeof(uint32_t));
	free(s);
}
