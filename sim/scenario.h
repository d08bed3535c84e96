/* scenario: the .scn scenario language, parsed into a tree the simulator runs and written back as text. */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The language is described in scenarios/README.md. This header is the
 * tree (the AST) that a parse produces: plain data, every time in
 * simulated nanoseconds, every node named by its index in `nodes`, every
 * probability in parts per million (1% = 10000 ppm). The simulator reads it
 * directly; the fuzzer builds one and the shrinker edits one, then
 * rf_scenario_write turns it back into text, and parsing that text gives an
 * equal tree (rf_scenario_equal).
 *
 * Fields that hold a random choice: a range lo..hi (lo == hi when fixed),
 * and RF_SCN_RANDOM_NODE where a node is named `random`. The simulator
 * draws them from the seed's "faults" stream. */

/* Bounds: anything bigger in a file is an error, never a crash. */
#define RF_SCN_FILE_BYTES_MAX (4u << 20)
#define RF_SCN_LINE_MAX 4096u        /* bytes per line */
#define RF_SCN_TOKENS_MAX 512u       /* tokens per line */
#define RF_SCN_NAME_MAX 64u          /* node, zone names (placement's rule) */
#define RF_SCN_GROUP_NAME_MAX 255u   /* group names, after range expansion */
#define RF_SCN_LABEL_MAX 32u
#define RF_SCN_MODEL_MAX 32u
#define RF_SCN_OP_MAX 256u           /* an op or expected reply text */
#define RF_SCN_NODES_MAX 256u
#define RF_SCN_ZONES_MAX 32u
#define RF_SCN_GROUP_ITEMS_MAX 4096u /* group and groups lines */
#define RF_SCN_GROUPS_MAX 100000u    /* groups after range expansion */
#define RF_SCN_REPLICAS_MAX 9u
#define RF_SCN_WORKLOADS_MAX 256u
#define RF_SCN_MIX_MAX 16u
#define RF_SCN_CLIENTS_MAX 1000u
#define RF_SCN_RATE_MAX 1000000u     /* operations per unit */
#define RF_SCN_EVENTS_MAX 20000u
#define RF_SCN_EXPECTS_MAX 64u
#define RF_SCN_SETS_MAX 8u           /* sets in one partition */
#define RF_SCN_DRIFT_PPM_MAX 100000  /* |clock drift|, 10% */
#define RF_SCN_TIME_NS_MAX (1000ull * 3600 * 1000000000ull) /* 1000 h */
#define RF_SCN_PPM_ONE 1000000u      /* 100% */
#define RF_SCN_ERROR_MAX 512u

#define RF_SCN_RANDOM_NODE (-1)
#define RF_SCN_NO_NODE (-2) /* a node field the event's kind does not use */
#define RF_SCN_LEADER_OF (-3) /* the leader of event.group at that time */
#define RF_SCN_NODE_WORDS ((RF_SCN_NODES_MAX + 63) / 64)

typedef struct rf_scn_nodeset {
    uint64_t bits[RF_SCN_NODE_WORDS]; /* bit i: node index i */
} rf_scn_nodeset;

typedef struct rf_scn_range {
    uint64_t lo, hi; /* nanoseconds; lo <= hi; equal when fixed */
} rf_scn_range;

/* A node. `added` is true for nodes that a timeline `add node` introduces:
 * they do not exist at time 0. */
typedef struct rf_scn_node {
    char name[RF_SCN_NAME_MAX + 1];
    uint32_t zone; /* index into rf_scenario.zones */
    bool inactive; /* exists but is not activated until `activate` */
    bool added;
} rf_scn_node;

/* A name or a bulk range prefix{lo..hi}suffix of names. */
typedef struct rf_scn_pattern {
    char prefix[RF_SCN_GROUP_NAME_MAX + 1];
    char suffix[RF_SCN_GROUP_NAME_MAX + 1];
    uint32_t lo, hi;
    bool is_range; /* false: prefix is the whole name */
} rf_scn_pattern;

typedef struct rf_scn_group {
    rf_scn_pattern names;
    uint32_t replicas;
    char model[RF_SCN_MODEL_MAX + 1];
} rf_scn_group;

typedef struct rf_scn_mix {
    char op[RF_SCN_OP_MAX + 1];
    uint32_t ppm; /* share of the operations */
    bool query;   /* sent as a query (a read), else as a command */
} rf_scn_mix;

/* Whether a mix operation without `command`/`query` in front is a query:
 * those whose first word is `get` (as in both built-in models). */
bool rf_scn_op_is_query_by_default(const char *op);

typedef struct rf_scn_workload {
    bool all_groups;
    rf_scn_pattern groups; /* when !all_groups */
    uint32_t clients;      /* per group */
    uint32_t rate;         /* operations per rate_per_ns, per client */
    uint64_t rate_per_ns;  /* 1 s, 1 min or 1 h */
    uint32_t mix_count;
    rf_scn_mix mix[RF_SCN_MIX_MAX];
    uint64_t until_ns; /* 0: until the end of the run */
} rf_scn_workload;

/* Network behaviour; `set` says which fields a line gave (a timeline
 * change touches only those). */
enum {
    RF_SCN_NET_LATENCY = 1u << 0,
    RF_SCN_NET_JITTER = 1u << 1,
    RF_SCN_NET_TAIL = 1u << 2,
    RF_SCN_NET_LOSS = 1u << 3,
    RF_SCN_NET_DUP = 1u << 4,
    RF_SCN_NET_REORDER = 1u << 5,
};

typedef struct rf_scn_network {
    uint32_t set;
    uint64_t latency_ns;  /* base one-way delay */
    uint64_t jitter_ns;   /* plus uniform [0, jitter] */
    uint32_t tail_ppm;    /* this share of messages ... */
    uint64_t tail_ns;     /* ... is delayed this much more */
    uint32_t loss_ppm;
    uint32_t dup_ppm;
    uint32_t reorder_ppm; /* delayed past later messages of the same link */
} rf_scn_network;

typedef enum {
    RF_SCN_PART_SETS,   /* explicit sets; one set means that set vs the rest */
    RF_SCN_PART_ZONE,   /* a whole zone vs the rest */
    RF_SCN_PART_NODE,   /* one node isolated (`isolate`) */
    RF_SCN_PART_RANDOM, /* a random minority vs the rest, drawn at the time */
} rf_scn_part_kind;

typedef struct rf_scn_partition {
    rf_scn_part_kind kind;
    uint32_t set_count;
    rf_scn_nodeset sets[RF_SCN_SETS_MAX];
    uint32_t zone;
    int32_t node;
} rf_scn_partition;

typedef enum {
    RF_SCN_EV_PARTITION, /* partition ... / isolate NODE */
    RF_SCN_EV_CUT,       /* one way: sets[0] -> sets[1] */
    RF_SCN_EV_FLAP,      /* a partition that comes and goes every `period` */
    RF_SCN_EV_CLOG,      /* link node <-> node2 (or ->) holds messages */
    RF_SCN_EV_HEAL,      /* every partition, cut, flap and clog ends */
    RF_SCN_EV_NETWORK,   /* loss, dup, latency... change */
    RF_SCN_EV_CRASH,
    RF_SCN_EV_RESTART,
    RF_SCN_EV_PAUSE,
    RF_SCN_EV_RESUME,
    RF_SCN_EV_DRIFT,
    RF_SCN_EV_ADD_NODE,
    RF_SCN_EV_ACTIVATE,
    RF_SCN_EV_DEACTIVATE,
    RF_SCN_EV_REMOVE_NODE,
    RF_SCN_EV_DISK,
    RF_SCN_EV_ADD_GROUP,
    RF_SCN_EV_REMOVE_GROUP,
    RF_SCN_EV_COMMAND,
    RF_SCN_EV_QUERY,
} rf_scn_event_kind;

typedef enum {
    RF_SCN_DISK_FAIL_WRITES,
    RF_SCN_DISK_FAIL_SYNCS,
    RF_SCN_DISK_FULL,
    RF_SCN_DISK_FLIP_BITS, /* reads return a flipped bit with flip_ppm */
} rf_scn_disk_fault;

typedef enum {
    RF_SCN_EXPECT_NONE,    /* fire and record, nothing expected */
    RF_SCN_EXPECT_REPLY,   /* {ok, reply} with reply == text */
    RF_SCN_EXPECT_ERROR,   /* an error whose name is text (no_leader ...) */
} rf_scn_expect_reply;

typedef struct rf_scn_event {
    rf_scn_event_kind kind;
    /* When: `at lo..hi` or `every period from start until end`. */
    bool repeat;
    rf_scn_range at;     /* at: time; every: [from, until], hi 0 = run end */
    rf_scn_range period; /* every only */
    rf_scn_range lasts;  /* `for`: 0..0 when not given */
    char label[RF_SCN_LABEL_MAX + 1];

    int32_t node; /* node index, RF_SCN_RANDOM_NODE, RF_SCN_LEADER_OF or RF_SCN_NO_NODE */
    int32_t node2;
    bool one_way;
    rf_scn_partition part;  /* PARTITION, FLAP; CUT uses sets[0], sets[1] */
    rf_scn_range flap_period;
    rf_scn_network net;
    int32_t drift_ppm;
    rf_scn_disk_fault disk;
    uint32_t flip_ppm;
    rf_scn_group group; /* ADD_GROUP; REMOVE_GROUP, COMMAND, QUERY, leader-of: names */
    char op[RF_SCN_OP_MAX + 1];
    rf_scn_expect_reply expect;
    char reply[RF_SCN_OP_MAX + 1];
} rf_scn_event;

typedef enum {
    RF_SCN_EXP_LINEARIZABLE,
    RF_SCN_EXP_SAFETY,
    RF_SCN_EXP_LEADERS,       /* a leader in every group within T after X */
    RF_SCN_EXP_CONVERGED,     /* placement converged within T after X */
    RF_SCN_EXP_MOVES,         /* at most N member moves after label */
    RF_SCN_EXP_UNAVAILABLE,   /* unavailability per group at most T */
} rf_scn_expect_kind;

typedef enum {
    RF_SCN_AFTER_FAULTS, /* the end of the last timed fault */
    RF_SCN_AFTER_START,
    RF_SCN_AFTER_LABEL,
} rf_scn_after;

typedef struct rf_scn_expect {
    rf_scn_expect_kind kind;
    uint64_t within_ns;
    rf_scn_after after;
    char label[RF_SCN_LABEL_MAX + 1];
    uint32_t moves;
    bool over_minimal; /* moves counts beyond the minimal count */
    uint64_t unavailable_ns;
} rf_scn_expect;

typedef struct rf_scenario {
    uint64_t seed;
    uint64_t run_ns;
    uint64_t heartbeat_ns;
    rf_scn_range election;
    uint64_t rebalance_ns;
    uint64_t purge_ns;
    rf_scn_range disk_latency;
    rf_scn_network net;
    /* `leases margin P%`: leader leases on, with a clock-drift margin of
     * P (ppm) of the election timeout T; groups never go quiet. 0: no
     * leases (the default: groups go quiet, reads take a ReadIndex round). */
    uint32_t lease_margin_ppm;
    /* `replication batch N`: a leader sends at most N entries per append
     * (1..4096); 0: raft's default (256). */
    uint32_t append_batch;

    uint32_t zone_count;
    char zones[RF_SCN_ZONES_MAX][RF_SCN_NAME_MAX + 1];
    uint32_t node_count;
    rf_scn_node nodes[RF_SCN_NODES_MAX];

    /* Arrays that grow: count items in use, cap allocated. */
    uint32_t group_count, group_cap; /* items; rf_scenario_group_total expands */
    rf_scn_group *groups;
    uint32_t workload_count, workload_cap;
    rf_scn_workload *workloads;
    uint32_t event_count, event_cap;
    rf_scn_event *events;
    uint32_t expect_count;
    rf_scn_expect expects[RF_SCN_EXPECTS_MAX];
} rf_scenario;

/* A parse error: the position of the offending token (1-based) and what
 * was expected there. `text` is "file:line:column: message". */
typedef struct rf_scn_error {
    uint32_t line, column;
    char message[RF_SCN_ERROR_MAX];
    char text[RF_SCN_ERROR_MAX + 300];
} rf_scn_error;

/* Parses len bytes of scenario text. `file` names it in errors. On success
 * *out is a new tree (free with rf_scenario_free). On failure returns
 * RF_ESCENARIO (or RF_ENOMEM), fills err with the first error, and leaves
 * *out NULL. Never crashes on any input. */
int rf_scenario_parse(const char *text, size_t len, const char *file, rf_scenario **out,
                      rf_scn_error *err);

/* Reads and parses a file (at most RF_SCN_FILE_BYTES_MAX bytes). A file
 * that cannot be read is an error at line 0, column 0. */
int rf_scenario_load(const char *path, rf_scenario **out, rf_scn_error *err);

void rf_scenario_free(rf_scenario *s);

/* A fresh tree with every default filled in and nothing declared. */
rf_scenario *rf_scenario_new(void);

/* The canonical text of s, NUL-terminated, malloc'd (caller frees).
 * Returns RF_OK or RF_ENOMEM. */
int rf_scenario_write(const rf_scenario *s, char **text, size_t *len);

/* True when a and b describe the same scenario. */
bool rf_scenario_equal(const rf_scenario *a, const rf_scenario *b);

/* ---- building and editing trees (the fuzzer and the shrinker) ----
 * Items are compared as bytes by rf_scenario_equal, so they must be made
 * by these functions (zero-filled, unused node fields RF_SCN_NO_NODE),
 * never on the stack without memset. */

/* Appends an item and returns it, counted and initialised (a group gets
 * `replicas 3 model int`), or NULL past the RF_SCN_*_MAX bound or out of
 * memory. The pointer is valid until the next append. */
rf_scn_group *rf_scenario_add_group(rf_scenario *s);
rf_scn_workload *rf_scenario_add_workload(rf_scenario *s);
rf_scn_event *rf_scenario_add_event(rf_scenario *s, rf_scn_event_kind kind);
rf_scn_expect *rf_scenario_add_expect(rf_scenario *s, rf_scn_expect_kind kind);

/* Zero-fills e and sets its unused node fields to RF_SCN_NO_NODE. */
void rf_scn_event_init(rf_scn_event *e, rf_scn_event_kind kind);

/* Declares a node (added: introduced by the `add node` event the caller
 * appends). Returns RF_OK and its index, RF_EBADNAME, RF_EEXIST or
 * RF_EFULL. */
int rf_scenario_add_node(rf_scenario *s, const char *name, const char *zone, bool inactive,
                         bool added, int32_t *index);

/* Removes one item, keeping the order of the others. Removing an
 * `add node` event removes its node too, or is RF_EBUSY (nothing changed)
 * while another event names that node. References by name (groups named
 * by workloads or operations, labels named by expectations) are not
 * followed: an edited tree is valid when its written text parses. */
void rf_scenario_remove_group(rf_scenario *s, uint32_t i);
void rf_scenario_remove_workload(rf_scenario *s, uint32_t i);
int rf_scenario_remove_event(rf_scenario *s, uint32_t i);
void rf_scenario_remove_expect(rf_scenario *s, uint32_t i);

/* True when event e names node i (as a target, in a set, or adds it). */
bool rf_scn_event_names_node(const rf_scn_event *e, uint32_t i);

/* Removes node i and renumbers the others (and the zones, dropping one
 * left empty). RF_EBUSY, changing nothing, while an event names the node
 * or its zone would be left empty but is named by a `partition zone`:
 * remove those events first. */
int rf_scenario_remove_node(rf_scenario *s, uint32_t i);

/* Renumbers nodes and zones the way the parser numbers them (nodes of
 * `node` lines first, then added nodes in the order of their `add node`
 * events; zones by first use, empty ones dropped). Call it after building
 * or editing a tree by hand, before comparing it with a parsed one. */
void rf_scenario_canonicalize(rf_scenario *s);

/* Groups after range expansion, and the name of the i-th name of a
 * pattern (0 <= i < rf_scn_pattern_count) into buf. */
uint32_t rf_scn_pattern_count(const rf_scn_pattern *p);
void rf_scn_pattern_name(const rf_scn_pattern *p, uint32_t i, char *buf, size_t cap);
uint64_t rf_scenario_group_total(const rf_scenario *s);

/* Lines that count as faults for `after faults`: all but client
 * operations and group additions and removals. */
bool rf_scn_event_is_fault(rf_scn_event_kind kind);

/* The latest time the last fault can end, taking the top of every range
 * (the simulator knows the drawn values; this is the bound), at most the
 * run's length; 0 without faults. A flap without `for` counts to the run's
 * end (a `heal` line ends it earlier at run time). */
uint64_t rf_scenario_faults_end_max_ns(const rf_scenario *s);

/* Client operations per simulated second that the workloads ask for
 * (groups added on the timeline not counted). */
double rf_scenario_ops_per_s(const rf_scenario *s);

/* Set helpers. */
static inline bool rf_scn_nodeset_has(const rf_scn_nodeset *s, uint32_t i)
{
    return (s->bits[i / 64] >> (i % 64)) & 1u;
}

#endif
