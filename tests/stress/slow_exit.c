/*
 * slow_exit.c — preloaded into the ASan build by sigterm.sh: holds the
 * process at exit for a moment, so that a thread caught reading freed
 * memory has time to write its whole report before the process is gone
 * (without it the report stops after its first line).
 */
#include <unistd.h>

__attribute__((destructor)) static void slow_exit(void)
{
    usleep(3000000);
}
