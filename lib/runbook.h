/*
 * runbook.h — the migration's instructions (DESIGN §3), loaded and
 * validated in full before anything connects anywhere.
 *
 * runbook_load() either returns a complete, checked runbook or fails with
 * the JSON path of the first problem ("cutover.switch[1].exec: expected an
 * array of strings"). Unknown keys are errors. Relative paths are resolved
 * against the runbook file's directory. Passwords are read from the
 * environment variables the runbook names and registered as secrets so they
 * are redacted from every output; they are never stored anywhere else.
 */
#ifndef CO_RUNBOOK_H
#define CO_RUNBOOK_H

#include <stdint.h>

#include "lib/errors.h"
#include "lib/ltype.h"

/* An exec or http action: switch, switch_back, hooks. */
enum action_kind { ACTION_EXEC, ACTION_HTTP };

struct rb_header {
    char *name;
    char *value;
};

struct rb_action {
    enum action_kind kind;
    char **argv;           /* exec: NULL-terminated */
    int argc;
    char *method;          /* http */
    char *url;
    struct rb_header *headers;
    int nheaders;
    char *body;
    int *expect_status;    /* empty = any 2xx */
    int nexpect;
    int timeout_ms;
};

enum tls_mode {
    TLS_DISABLED, TLS_PREFERRED, TLS_REQUIRED, TLS_VERIFY_CA,
    TLS_VERIFY_IDENTITY
};

struct rb_tls {
    enum tls_mode mode;
    char *ca, *cert, *key;
};

/* A server connection: the target primary, one of its replicas, or a
 * MySQL source. */
struct rb_conn {
    char *type;            /* the target: its engine (target.type) */
    char *name;            /* replicas: name used in metrics and events */
    char *socket;
    char *host;
    int port;
    char *user;
    char *password_env;
    char *password;        /* from the environment; never printed */
    char *database;
    char *schema;          /* PostgreSQL: the schema of the tables
                              ("public" when none is given) */
    struct rb_tls tls;
    int connect_timeout_s;
};

struct rb_override {
    char *table;
    char *column;
    char *type;            /* target type, e.g. DECIMAL(12,2) */
};

/* tables.keys: a chosen key for tables without a usable primary key. */
struct rb_key_choice {
    char *table;
    int rowid;             /* use SQLite's rowid */
    char **columns;        /* or these columns (unique, NOT NULL) */
    int ncolumns;
};

enum invalid_utf8_policy { UTF8_REJECT, UTF8_REPLACE, UTF8_AS_BLOB };
/* MySQL's zero and partial-zero dates ('0000-00-00', '2022-11-00') on a
 * target that refuses them: a blocking finding, or NULL in their place. */
enum zero_dates_policy { ZERO_DATES_REFUSE, ZERO_DATES_NULL };
enum schema_mode { SCHEMA_CREATE, SCHEMA_EXISTING };
enum copy_method { COPY_AUTO, COPY_LOAD_DATA, COPY_INSERT };
enum verify_mode { VERIFY_FULL, VERIFY_SAMPLE, VERIFY_COUNT };
enum cutover_mode { CUTOVER_AUTO, CUTOVER_MANUAL };
enum on_abort { ON_ABORT_KEEP, ON_ABORT_DROP };

struct rb_check {
    char *name;
    int is_http;
    struct rb_action http;   /* kind ACTION_HTTP */
    char *sql;
    int has_min, has_max;
    double min, max;
    char *replica;           /* run the SQL check on this replica */
};

enum trigger_action {
    TRIG_NOTIFY, TRIG_THROTTLE, TRIG_PAUSE, TRIG_RESUME, TRIG_ABORT,
    TRIG_ROLLBACK
};

struct rb_trigger {
    char *name;
    char *metric;            /* metric rule; NULL for alert rules */
    char *alert;             /* alert rule: name or "*" */
    int has_above, has_below;
    double above, below;
    double for_s;
    char **stages;           /* NULL = all */
    int nstages;
    enum trigger_action action;
    double rows_per_s;       /* throttle */
};

struct rb_webhook {
    char *url;
    char **events;           /* NULL = all outcome events */
    int nevents;
    struct rb_header *headers;
    int nheaders;
    int timeout_ms;
    int retries;
};

struct runbook {
    char *path;              /* absolute path of the runbook file */
    int secrets_needed;      /* enum rb_secrets it was loaded with */
    char *dir;               /* its directory */
    uint8_t sha256[32];      /* of the file's bytes */
    char sha256_hex[65];

    char *name;
    char *state_dir;         /* absolute */

    struct {
        char *type;          /* its engine: source.type */
        char *label;         /* how messages name it: the file, or the
                                server and database */
        char *path;          /* sqlite: absolute */
        int busy_timeout_ms;
        int app_busy_timeout_ms;   /* advisory, 0 = unknown */
        int app_immediate;   /* advisory: the application's transactions
                                begin with BEGIN IMMEDIATE */
        struct rb_conn server;   /* mysql: the server and database */
        int capture_binlog;      /* mysql: capture 1 "binlog", 0
                                    "triggers", -1 not given: binlog when
                                    the server logs what it needs */
        uint32_t server_id;      /* mysql: ours as a binlog reader, 0 not
                                    given (one derived from the name) */
        int poll_ms;             /* mysql: the least time between two
                                    reads of the binary log, or of a
                                    table's change log */
    } source;

    struct rb_conn target;
    struct rb_conn *replicas;
    int nreplicas;

    struct {
        char **include;
        int ninclude;
        char **exclude;
        int nexclude;
        struct rb_key_choice *keys;
        int nkeys;
    } tables;

    struct {
        enum schema_mode mode;
        char *collation;
        struct rb_override *overrides;
        int noverrides;
        enum invalid_utf8_policy invalid_utf8;
        enum zero_dates_policy zero_dates;
        enum on_abort on_abort;
        enum lzone datetimes;    /* what the source's datetimes are: wall
                                    clock, or UTC instants */
    } schema;

    struct {
        int workers;
        int chunk_target_ms;
        double max_rows_per_s;   /* 0 = unlimited */
        enum copy_method method;
        double max_replica_lag_s;
    } copy;

    struct {
        int batch_rows;
        double ready_lag_s;
        double max_keys_per_s;   /* applier throttle; 0 = unlimited */
    } sync;

    struct {
        enum verify_mode mode;
        int recheck_attempts;
        double sample_percent;
        int read_from_replica;
    } verify;

    struct {
        enum cutover_mode mode;
        int max_write_pause_ms;
        int retries;
        struct rb_action *switch_actions;
        int nswitch;
        struct rb_action *switch_back;
        int nswitch_back;
    } cutover;

    struct {
        double watch_s;
        double interval_s;
        struct rb_check *checks;
        int nchecks;
    } post_validate;

    struct rb_trigger *triggers;
    int ntriggers;
    int triggers_given;          /* runbook had a "triggers" key */

    struct rb_webhook *webhooks;
    int nwebhooks;

    struct {
        struct rb_action *on_stage;
        int non_stage;
        struct rb_action *on_trigger;
        int non_trigger;
    } hooks;

    struct {
        char *socket;            /* absolute */
        int mode;                /* file mode bits */
    } progress;

    struct {
        int enabled;
        char *encrypt_key_env;   /* AES-256-GCM key: 64 hex chars */
    } backup;

    /* The HTTP endpoint (runbook_http.c): off unless the runbook has it. */
    struct {
        int enabled;
        char *listen;            /* "127.0.0.1:9464", "[::1]:9464" */
        char *token_env;         /* bearer token for POST /alerts */
        int max_connections;
    } http;
};

/* Load and validate the runbook at `path`. Returns 0, CO_EIO when the file
 * cannot be read, CO_ERUNBOOK with the JSON path in err otherwise. */
int runbook_load(const char *path, struct runbook **out, struct co_err *err);

/* The engines source.type and target.type may name, NULL-terminated. */
const char *const *runbook_source_types(void);
const char *const *runbook_target_types(void);

/* The secrets a command needs from the environment: a variable the
 * runbook names but the command does not need may be unset (then the
 * secret is NULL); one that is set is read and checked all the same.
 * runbook_load() needs them all. */
enum rb_secrets {
    RB_SECRETS_NONE = 0,       /* status, watch, ctl, check-checkpoint */
    RB_PASSWORDS = 1,          /* commands that connect to the target */
    RB_BACKUP_KEY = 2,         /* commands that write or read the backup */
    RB_SECRETS_ALL = 3
};
int runbook_load_needing(const char *path, int secrets, struct runbook **out,
                         struct co_err *err);

/* Parse from memory (fuzzing, tests); `dir` resolves relative paths. */
int runbook_parse(const char *text, size_t len, const char *dir,
                  struct runbook **out, struct co_err *err);
int runbook_parse_needing(const char *text, size_t len, const char *dir,
                          int secrets, struct runbook **out,
                          struct co_err *err);

void runbook_free(struct runbook *rb);

/* Does table `name` take part (include/exclude globs, our own tables
 * never)? */
int runbook_table_selected(const struct runbook *rb, const char *name);

/* The type override for table.column, or NULL. */
const char *runbook_override(const struct runbook *rb, const char *table,
                             const char *column);

const struct rb_key_choice *runbook_key_choice(const struct runbook *rb,
                                               const char *table);

const char *trigger_action_name(enum trigger_action a);

/* Is `metric` one of the metrics of DESIGN §6 (check.NAME.failures with
 * NAME a declared check)? */
int runbook_metric_known(const struct runbook *rb, const char *metric);

#endif
