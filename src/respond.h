/*
 * respond.h -- answers made by policy.
 *
 *   nxdomain, nodata  rcode NXDOMAIN / NOERROR with a SOA in the authority
 *                     section (owner: the matched name; minimum and TTL:
 *                     policy.block-ttl), so clients cache the negative
 *                     answer for that long (RFC 2308).
 *   refused           rcode REFUSED.
 *   override          the configured (or RPZ) A/AAAA records for a query
 *                     of that type, NODATA for other types; a CNAME
 *                     override is answered with the CNAME followed by
 *                     what the target resolves to (respond_chase()).
 *   drop              no reply.
 * With EDNS every policy answer carries an Extended DNS Error (RFC 8914:
 * 15 Blocked for a rule, 17 Filtered for the walled-garden default) whose
 * text names the rule, group and feed.
 */
#ifndef DNSWARD_RESPOND_H
#define DNSWARD_RESPOND_H

#include <stddef.h>
#include <stdint.h>

struct policy_result;
struct query;
struct wire_edns;

/*
 * Build the policy answer to q for res into out.  matched is the wire
 * name that matched (for the SOA owner).  Returns the length; 0 for drop.
 */
size_t	respond_block(const struct query *q, const struct policy_result *res,
	    const uint8_t *matched, size_t matchedlen, uint16_t edns_size,
	    uint8_t *out, size_t outsz);

/*
 * If res is a CNAME override, copy its target (wire, lower case) into
 * target (DNS_MAX_NAME bytes) and its TTL, and return 1; else 0.
 */
int	respond_cname_target(const struct policy_result *res,
	    uint8_t *target, size_t *targetlen, uint32_t *ttl);

/*
 * The answer to a CNAME override: the CNAME from the query name to
 * q->chase_name, then the answer records of the upstream reply resp for
 * that name, with the upstream's rcode.  Returns the length, 0 on failure.
 */
size_t	respond_chase(const struct query *q, const uint8_t *resp, size_t len,
	    uint16_t edns_size, uint8_t *out, size_t outsz);

/*
 * A CNAME hop into a zone, composed: prev is an answer whose CNAME chain
 * (from its question's name) reaches the name hop (wire); resp is the
 * answer for hop.  The result has prev's question, prev's chain records up
 * to hop (the CNAMEs and their RRSIGs; DNAMEs), then resp's answer and
 * authority records and resp's rcode; QR, RA, prev's RD and CD; AA and AD
 * clear (the parts come from different sources); no OPT.  Returned
 * malloc'd in *out (*outlen bytes, at most 65535).  0, or -1 when either
 * message does not parse or the chain of prev does not reach hop.
 */
#define RESPOND_MAX_CHAIN	17
int	respond_splice(const uint8_t *prev, size_t prevlen,
	    const uint8_t *hop, size_t hoplen, const uint8_t *resp,
	    size_t len, uint8_t **out, size_t *outlen);

/* The EDE text for res into buf: "rule 'x' in group 'y' (feed 'z')". */
void	respond_ede_text(const struct policy_result *res, char *buf,
	    size_t bufsz);

#endif /* DNSWARD_RESPOND_H */
