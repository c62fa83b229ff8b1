/*
 * umask.h — the process umask, which is shared by every thread.
 *
 * cutover creates what it creates (the state dir and its files, backups,
 * restored databases) under umask 077: private whatever the caller's
 * umask, even where a library picks the mode. The programs it starts
 * (actions, hooks) get the caller's own umask back, and the progress socket
 * is bound under the umask that gives it progress.mode — set before bind,
 * never chmod after, which would follow a link planted in between. Every
 * change is made under one lock and undone at once.
 */
#ifndef CO_UMASK_H
#define CO_UMASK_H

#include <sys/types.h>

/* At start: remember the caller's umask, then set 077. */
void umask_private(void);
/* The caller's umask (for child processes). */
mode_t umask_caller(void);
/* Set `mask` for a moment: returns the previous one, to give back to
 * umask_leave(); nothing else changes the umask in between. */
mode_t umask_enter(mode_t mask);
void umask_leave(mode_t previous);

#endif
