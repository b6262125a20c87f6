/*
 * stage_test.h - attacks of a compromised stage, compiled in only with
 * MOAT_TEST_HOOKS (stage_test.c); the normal build has empty functions.
 */
#ifndef MOAT_SKELETON_STAGE_TEST_H
#define MOAT_SKELETON_STAGE_TEST_H

#include <stdint.h>

struct stage;

void stage_test_attack(struct stage *st);
/* stage_test_busy - the busy value stage_status sends (a lie under attack). */
uint32_t stage_test_busy(uint32_t busy);
/* stage_test_nexthop - the next hop qmgr puts in a job (a lie under attack). */
const char *stage_test_nexthop(const char *nexthop);
/* stage_test_dns_lie - a value the dns stage sends, or with
 * MOAT_TEST_ATTACK "dns:lie=what" a hostile one (value + 65536). */
uint32_t stage_test_dns_lie(const char *what, uint32_t value);
/* stage_test_lookup - the attacks on the lookup stage (stage_test_lookup.c). */
int stage_test_lookup(struct stage *st, const char *action);
/* stage_test_tlskey - the attacks on the tlskey stage (stage_test_tlskey.c). */
int stage_test_tlskey(struct stage *st, const char *action);

#endif
