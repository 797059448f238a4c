/*
 * policy.c -- the query policy stages.  See policy.h.
 */
#include <stdlib.h>

#include "config.h"
#include "policy.h"

struct policy {
	enum policy_verdict	 default_verdict;
};

typedef enum policy_verdict (*policy_stage_fn)(const struct policy *,
    const struct policy_query *, struct policy_result *);

/*
 * The default: what happens when no earlier stage decided.  Until rule
 * groups exist (issue 3) this is allow, as the default of policy.default.
 */
static enum policy_verdict
stage_default(const struct policy *p, const struct policy_query *pq,
    struct policy_result *res)
{
	res->action = p->default_verdict == POLICY_ALLOW ?
	    DLOG_ACTION_ALLOW : DLOG_ACTION_BLOCK;
	res->reason = "default";
	return p->default_verdict;
}

static const struct {
	const char	*name;
	policy_stage_fn	 run;
} stages[] = {
	{ "default",	stage_default },
};

struct policy *
policy_new(const struct config *cfg)
{
	struct policy	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->default_verdict = POLICY_ALLOW;
	return p;
}

void
policy_check(const struct policy *p, const struct policy_query *pq,
    struct policy_result *res)
{
	size_t	 i;

	res->verdict = POLICY_NEXT;
	res->action = DLOG_ACTION_NONE;
	res->reason = NULL;
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		res->verdict = stages[i].run(p, pq, res);
		if (res->verdict != POLICY_NEXT)
			return;
	}
}

void
policy_free(struct policy *p)
{
	free(p);
}
