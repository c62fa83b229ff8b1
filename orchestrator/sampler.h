/*
 * sampler.h — once a second, on the loop: gather the metrics of DESIGN §6
 * from the model (copy rate, mismatches, cutover pause) and the host; a
 * probe thread with its own target connection measures target.probe_ms,
 * target.threads_running and replica lag without ever blocking the loop.
 * Every few seconds, state_dir/metrics.prom is rewritten for
 * node_exporter's textfile collector.
 */
#ifndef CO_SAMPLER_H
#define CO_SAMPLER_H

struct orch;
struct sbuf;

void sampler_sample(struct orch *o);
int sampler_write_prom(struct orch *o);
/* A Prometheus label value, quoted: backslash, quote and newline escaped. */
void sampler_prom_label(struct sbuf *b, const char *v);

/* Stop the probe thread and the replica monitor (started lazily by
 * sampler_sample); `ended`: the migration reached a final state, so what
 * they keep on the target (the heartbeat table) goes. */
void sampler_stop(int ended);

#endif
