/*
 * zone.h -- zones: where a name is resolved.
 *
 * The configuration's zones: list, compiled once per generation.  A name
 * belongs to the longest zone that contains it (at or below the zone name,
 * on a label boundary); a name in no zone goes to the default backend
 * (resolver.mode: the forward upstreams or recursion).
 *
 *   forward  the zone's own servers are asked (with the client's RD), in
 *            either mode; on-nxdomain / on-nodata: fallback retries a NXDOMAIN / NODATA
 *            from them once through the zone's fallback servers or, when
 *            it names none, the default backend.
 *   local    records written in the configuration (zone-file syntax, names
 *            relative to the zone) are answered here, authoritatively:
 *            the RRset, a CNAME (followed inside the zone), NODATA when the
 *            name exists (or is an empty non-terminal) without that type,
 *            NXDOMAIN below the zone otherwise, with the zone's SOA (the
 *            one written, or a synthesized one) in the authority section.
 *
 * A built struct zones is immutable: workers read it without locks.
 */
#ifndef DNSWARD_ZONE_H
#define DNSWARD_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct zone;
struct zones;

/*
 * Compile cfg->zones (already validated by config_load()).  NULL with a
 * message in err on failure (out of memory, or a record that no longer
 * parses).
 */
struct zones	*zones_build(const struct config *cfg, char *err,
		    size_t errsz);
void		 zones_free(struct zones *zs);

/*
 * The longest zone containing name (wire form, lower case), or NULL: the
 * default backend.  zs may be NULL (no zones).
 */
const struct zone *zones_find(const struct zones *zs, const uint8_t *name,
		    size_t namelen);

/* The zone's configuration (name, kind, servers, fallback settings). */
const struct config_zone *zone_config(const struct zone *z);

/*
 * Answer name/qtype/qclass from local zone z into out: a complete DNS
 * message with QR and AA set, ID 0, RD clear, one question (name as given,
 * uncompressed), no OPT.  Returns its length; 0 when it does not fit (or
 * z is not local).  Answers:
 *   - qclass other than IN: REFUSED (a local zone holds IN data only);
 *   - the RRset of qtype at name (qtype ANY: every record at name);
 *   - a CNAME at name (any qtype but CNAME): the CNAME, and when its target
 *     is inside the zone the target's answer too (chains of at most 8);
 *     a target outside the zone ends the answer there (the caller resolves
 *     it);
 *   - NODATA (NOERROR, SOA in authority) when name has records but not of
 *     qtype, or has none but names below it do (empty non-terminal);
 *   - NXDOMAIN with the SOA otherwise.
 * The SOA is the zone's own when one is written at the apex; otherwise
 * "ZONE. 3600 IN SOA ZONE. hostmaster.ZONE. 1 3600 600 86400 300".  Its
 * TTL in negative answers is min(SOA TTL, SOA minimum) (RFC 2308).
 */
size_t		 zone_local_answer(const struct zone *z, const uint8_t *name,
		    size_t namelen, uint16_t qtype, uint16_t qclass,
		    uint8_t *out, size_t outsz);

/*
 * Check one local record as written (zone-file syntax; relative owner
 * names and the "@" apex against zone, which is the zone name in
 * presentation form without the final dot; a missing TTL is
 * CONFIG_LOCAL_TTL): it must parse, be of class IN, have its owner at or
 * below the zone, and be a type that may be served here (not DNSSEC or
 * meta types: RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY, DS, OPT, TSIG, ...;
 * an SOA only at the apex).  Returns 0, or -1 with the reason in why.
 * Consistency across records (CNAME beside other data, two CNAMEs at a
 * name, two SOAs, a CNAME at the apex) is checked by zone_check_records().
 */
int		 zone_check_record(const char *text, const char *zone,
		    char *why, size_t whysz);

/*
 * Check the records of one zone together; on the first problem return the
 * index of the offending record (the later one of a conflicting pair) and
 * the reason in why; -1 when they are consistent.  Each record must have
 * passed zone_check_record().
 */
long		 zone_check_records(char *const *texts, size_t n,
		    const char *zone, char *why, size_t whysz);

#endif /* DNSWARD_ZONE_H */
