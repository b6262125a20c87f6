/*
 * stage_log.h - route a stage's msg_* output to the log stage.
 */
#ifndef MOAT_SKELETON_STAGE_LOG_H
#define MOAT_SKELETON_STAGE_LOG_H

struct stage;

void stage_log_open(struct stage *st);

#endif
