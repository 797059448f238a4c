/*
 * addr.h -- socket addresses: parsing operator text, printing, comparing.
 *
 * Every part of dnsward that names an address (listeners, upstreams, the
 * client ACL, the decision log) goes through these helpers so the accepted
 * spellings are the same everywhere:
 *   "192.0.2.1"  "192.0.2.1:53"  "::1"  "[::1]"  "[::1]:53"
 */
#ifndef DNSWARD_ADDR_H
#define DNSWARD_ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text addr_str() writes: "[" v6 "]:" port NUL. */
#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)

struct addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

/*
 * Parse "ip", "ip:port", "[ip6]" or "[ip6]:port" into *a.  A missing port
 * becomes default_port.  Returns 0 on success, -1 with a short reason in
 * *why (a static string) on failure.
 */
int	addr_parse(const char *text, uint16_t default_port, struct addr *a,
	    const char **why);

/* Write "ip:port" (or "[ip6]:port") into buf (at least ADDR_STRLEN). */
void	addr_str(const struct addr *a, char *buf, size_t bufsz);

/* Write only the IP into buf (at least INET6_ADDRSTRLEN). */
void	addr_ip_str(const struct sockaddr *sa, char *buf, size_t bufsz);

/* Port in host byte order (0 for unknown families). */
uint16_t addr_port(const struct sockaddr *sa);

/* 1 if the two addresses are the same family, IP and port. */
int	addr_equal(const struct sockaddr *x, const struct sockaddr *y);

/* sizeof the sockaddr for its family (0 for unknown families). */
socklen_t addr_sockaddr_len(const struct sockaddr *sa);

#endif /* DNSWARD_ADDR_H */
