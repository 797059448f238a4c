/*
 * addr.c -- socket addresses: parsing operator text, printing, comparing.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"

/*
 * Parse a port: 1 to 5 decimal digits, 1..65535.  The digit limit keeps
 * every accepted spelling short enough for ADDR_STRLEN.
 */
static int
addr_parse_port(const char *s, uint16_t *port, const char **why)
{
	unsigned long	 v = 0;
	size_t		 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5) {
			*why = "bad port";
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0) {
		*why = "missing port";
		return -1;
	}
	if (v == 0 || v > 65535) {
		*why = "port out of range (1..65535)";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* Fill *a from an IP literal of the given family (len bytes of host). */
static int
addr_fill(int family, const char *host, size_t len, uint16_t port,
    struct addr *a)
{
	char			 buf[INET6_ADDRSTRLEN];
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, host, len);
	buf[len] = '\0';

	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)&a->ss;
		if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		a->len = sizeof(*sin);
	} else {
		sin6 = (struct sockaddr_in6 *)&a->ss;
		if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		a->len = sizeof(*sin6);
	}
	return 0;
}

/*
 * Set the port of an already filled *a from the text after a colon.  The
 * address is checked first so that "foo:bar" is reported as a bad address
 * rather than as a bad port.
 */
static int
addr_set_port(struct addr *a, const char *s, const char **why)
{
	uint16_t	 port;

	if (addr_parse_port(s, &port, why) == -1)
		return -1;
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
	return 0;
}

/* "[ip6]" or "[ip6]:port". */
static int
addr_parse_bracket(const char *text, uint16_t port, struct addr *a,
    const char **why)
{
	const char	*end;

	if ((end = strchr(text, ']')) == NULL) {
		*why = "missing ']'";
		return -1;
	}
	if (end[1] != '\0' && end[1] != ':') {
		*why = "junk after ']'";
		return -1;
	}
	if (addr_fill(AF_INET6, text + 1, end - text - 1, port, a) == -1) {
		*why = "not an IPv6 address";
		return -1;
	}
	if (end[1] == ':')
		return addr_set_port(a, end + 2, why);
	return 0;
}

/*
 * Without brackets one colon separates an IPv4 address from its port; more
 * than one means a bare IPv6 address, which cannot carry a port ("::1:53" is
 * the address ::1:53, so operators must write "[::1]:53").
 */
int
addr_parse(const char *text, uint16_t default_port, struct addr *a,
    const char **why)
{
	const char	*colon;
	int		 family = AF_INET;

	if (text == NULL || *text == '\0') {
		*why = "empty address";
		return -1;
	}
	if (*text == '[')
		return addr_parse_bracket(text, default_port, a, why);

	if ((colon = strchr(text, ':')) == NULL)
		colon = text + strlen(text);
	else if (strchr(colon + 1, ':') != NULL) {
		family = AF_INET6;
		colon = text + strlen(text);
	}
	if (addr_fill(family, text, colon - text, default_port, a) == -1) {
		*why = "not an IP address";
		return -1;
	}
	if (*colon == ':')
		return addr_set_port(a, colon + 1, why);
	return 0;
}

void
addr_ip_str(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	const void	*src;

	if (sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		src = NULL;
	if (src == NULL ||
	    inet_ntop(sa->sa_family, src, buf, (socklen_t)bufsz) == NULL)
		snprintf(buf, bufsz, "?");
}

void
addr_str(const struct addr *a, char *buf, size_t bufsz)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&a->ss;
	char			 ip[INET6_ADDRSTRLEN];

	addr_ip_str(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_INET6)
		snprintf(buf, bufsz, "[%s]:%u", ip, addr_port(sa));
	else
		snprintf(buf, bufsz, "%s:%u", ip, addr_port(sa));
}

uint16_t
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

int
addr_equal(const struct sockaddr *x, const struct sockaddr *y)
{
	const struct sockaddr_in	*x4, *y4;
	const struct sockaddr_in6	*x6, *y6;

	if (x->sa_family != y->sa_family)
		return 0;
	if (x->sa_family == AF_INET) {
		x4 = (const struct sockaddr_in *)x;
		y4 = (const struct sockaddr_in *)y;
		return x4->sin_port == y4->sin_port &&
		    x4->sin_addr.s_addr == y4->sin_addr.s_addr;
	}
	if (x->sa_family == AF_INET6) {
		x6 = (const struct sockaddr_in6 *)x;
		y6 = (const struct sockaddr_in6 *)y;
		return x6->sin6_port == y6->sin6_port &&
		    x6->sin6_scope_id == y6->sin6_scope_id &&
		    memcmp(&x6->sin6_addr, &y6->sin6_addr,
		    sizeof(x6->sin6_addr)) == 0;
	}
	return 0;
}

socklen_t
addr_sockaddr_len(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}
