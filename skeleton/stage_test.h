/*
 * stage_test.h - confinement self-tests, compiled in only with MOAT_TEST_HOOKS.
 */
#ifndef MOAT_SKELETON_STAGE_TEST_H
#define MOAT_SKELETON_STAGE_TEST_H

struct stage;

void stage_test_attack(struct stage *st);

#endif
