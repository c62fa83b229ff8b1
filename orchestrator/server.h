/*
 * server.h — the progress socket server (DESIGN §7), run by the loop.
 */
#ifndef CO_SERVER_H
#define CO_SERVER_H

#include "orchestrator/orch.h"

struct progress_server *server_start(struct orch *o, struct co_err *err);
/* Send what is queued, close every client, remove the socket file. */
void server_stop(struct progress_server *srv);

#endif
