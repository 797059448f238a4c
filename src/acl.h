/*
 * acl.h -- client access control: a list of IPv4/IPv6 CIDR networks.
 *
 * The list is built once from configuration and is read-only afterwards, so
 * every worker can look up concurrently without a lock.  A lookup is a linear
 * scan over prefixes grouped by family; allow-client lists are short (tens of
 * entries), and a CIDR trie replaces this when answer-IP feeds arrive.
 */
#ifndef DNSWARD_ACL_H
#define DNSWARD_ACL_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct acl;

/* One network: family AF_INET or AF_INET6, address bytes, prefix length. */
struct acl_net {
	int		family;
	uint8_t		addr[16];
	uint8_t		prefixlen;
};

/*
 * Parse "10.0.0.0/8", "::1/128", "192.0.2.1" (host route) into *net.
 * Host bits set beyond the prefix are an error ("host bits set"), as a
 * typo there usually means the operator meant another network.
 * Returns 0, or -1 with a static reason in *why.
 */
int		 acl_net_parse(const char *text, struct acl_net *net,
		    const char **why);

/* A new empty list; NULL when out of memory.  Caller frees with acl_free. */
struct acl	*acl_new(void);

/* Append a network; 0 on success, -1 when out of memory. */
int		 acl_add(struct acl *, const struct acl_net *);

/* Number of networks in the list. */
size_t		 acl_count(const struct acl *);

/*
 * 1 if the address (AF_INET or AF_INET6 sockaddr) falls in any network of
 * the list.  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched as the
 * IPv4 address it carries.  A NULL list matches nothing.
 */
int		 acl_match(const struct acl *, const struct sockaddr *);

/* Free the list; accepts NULL. */
void		 acl_free(struct acl *);

#endif /* DNSWARD_ACL_H */
