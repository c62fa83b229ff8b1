/*
 * faults.h — fault-injection seams, compiled into every build so crash and
 * I/O-failure tests exercise the real binary.
 *
 * CUTOVER_CRASH_AT=stage:point[:N] kills the process with SIGKILL (exactly
 * what kill -9 does) the Nth time (default 1st) execution reaches
 * fault_point("stage", "point"). Several points may be given separated by
 * commas. CUTOVER_DELAY_AT=stage:point:N:MS sleeps MS milliseconds there
 * instead (the Nth time), to force races such as a backlog at the cutover
 * lock. CUTOVER_PAUSE_AT=stage:point:N with CUTOVER_PAUSE_FILE=PATH
 * creates PATH at the Nth hit and waits there until the test removes it,
 * so a test can act at an exact instant (e.g. change rows of the chunk
 * being copied). CUTOVER_FAULT_IO=op:N:ERRNO makes the Nth call of I/O
 * operation `op` (write, fsync, rename, open) fail with ERRNO (ENOSPC...).
 */
#ifndef CO_FAULTS_H
#define CO_FAULTS_H

void fault_point(const char *stage, const char *point);
/* 0, or the errno to fail this call of `op` with. */
int fault_io(const char *op);

#endif
