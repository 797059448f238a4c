/*
 * acl.c -- client access control: a list of IPv4/IPv6 CIDR networks.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "acl.h"

/* A growable array of the networks of one family. */
struct acl_vec {
	struct acl_net	*nets;
	size_t		 n;
	size_t		 cap;
};

struct acl {
	struct acl_vec	 v4;
	struct acl_vec	 v6;
};

/* The prefix length after '/': 1 to 3 decimal digits. */
static int
acl_parse_prefixlen(const char *s, unsigned max, uint8_t *len,
    const char **why)
{
	unsigned	 v = 0;
	size_t		 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3) {
			*why = "bad prefix length";
			return -1;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0) {
		*why = "bad prefix length";
		return -1;
	}
	if (v > max) {
		*why = "prefix too long";
		return -1;
	}
	*len = (uint8_t)v;
	return 0;
}

/* 1 if any bit of addr beyond the first len bits is set. */
static int
acl_host_bits(const uint8_t *addr, size_t addrlen, unsigned len)
{
	size_t	 i;
	uint8_t	 mask;

	for (i = len / 8; i < addrlen; i++) {
		mask = (i == len / 8) ? (uint8_t)(0xff >> (len % 8)) : 0xff;
		if (addr[i] & mask)
			return 1;
	}
	return 0;
}

/* 1 if the first len bits of a and b agree. */
static int
acl_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned	 full = len / 8, rest = len % 8;
	uint8_t		 mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int
acl_net_parse(const char *text, struct acl_net *net, const char **why)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*slash;
	size_t		 len, addrlen;

	if (text == NULL || *text == '\0') {
		*why = "empty network";
		return -1;
	}
	if ((slash = strchr(text, '/')) == NULL)
		slash = text + strlen(text);
	len = slash - text;
	if (len == 0 || len >= sizeof(buf)) {
		*why = "not an IP address";
		return -1;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';

	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->family = AF_INET;
		addrlen = 4;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->family = AF_INET6;
		addrlen = 16;
	} else {
		*why = "not an IP address";
		return -1;
	}

	/* No "/len" is a host route. */
	net->prefixlen = (uint8_t)(addrlen * 8);
	if (*slash == '/' && acl_parse_prefixlen(slash + 1,
	    (unsigned)addrlen * 8, &net->prefixlen, why) == -1)
		return -1;
	if (acl_host_bits(net->addr, addrlen, net->prefixlen)) {
		*why = "host bits set";
		return -1;
	}
	return 0;
}

struct acl *
acl_new(void)
{
	return calloc(1, sizeof(struct acl));
}

static int
acl_vec_add(struct acl_vec *v, const struct acl_net *net)
{
	struct acl_net	*p;
	size_t		 cap;

	if (v->n == v->cap) {
		cap = v->cap ? v->cap * 2 : 8;
		if ((p = reallocarray(v->nets, cap, sizeof(*p))) == NULL)
			return -1;
		v->nets = p;
		v->cap = cap;
	}
	v->nets[v->n++] = *net;
	return 0;
}

int
acl_add(struct acl *acl, const struct acl_net *net)
{
	if (net->family == AF_INET)
		return acl_vec_add(&acl->v4, net);
	if (net->family == AF_INET6)
		return acl_vec_add(&acl->v6, net);
	return -1;
}

size_t
acl_count(const struct acl *acl)
{
	if (acl == NULL)
		return 0;
	return acl->v4.n + acl->v6.n;
}

static int
acl_vec_match(const struct acl_vec *v, const uint8_t *addr)
{
	size_t	 i;

	for (i = 0; i < v->n; i++)
		if (acl_prefix_eq(v->nets[i].addr, addr, v->nets[i].prefixlen))
			return 1;
	return 0;
}

/*
 * A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d; operators write
 * IPv4 networks for them, so those are tried first.  The IPv6 list is still
 * searched in case someone listed the mapped form itself.
 */
int
acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*a6;

	if (acl == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		return acl_vec_match(&acl->v4,
		    (const uint8_t *)&sin->sin_addr);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	sin6 = (const struct sockaddr_in6 *)sa;
	a6 = sin6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
	    acl_vec_match(&acl->v4, a6 + 12))
		return 1;
	return acl_vec_match(&acl->v6, a6);
}

void
acl_free(struct acl *acl)
{
	if (acl == NULL)
		return;
	free(acl->v4.nets);
	free(acl->v6.nets);
	free(acl);
}
