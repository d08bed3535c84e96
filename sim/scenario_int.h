/* scenario_int: what the scenario parser's files share: the line tokenizer, value readers, parser state. */
#ifndef SIM_SCENARIO_INT_H
#define SIM_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

typedef struct scn_tok {
    const char *s; /* not NUL-terminated; quoted tokens point at unescaped text */
    uint32_t len;
    uint32_t col; /* 1-based column of the token's first byte */
    bool quoted;
} scn_tok;

/* A reference checked once the whole file is read (groups and labels may
 * be named before the line that declares them). */
typedef struct scn_ref {
    rf_scn_pattern pattern; /* group name(s); or label in prefix */
    bool is_label;
    uint32_t line, col;
} scn_ref;

typedef struct scn_parser {
    const char *file;
    rf_scn_error *err;
    bool failed;
    rf_scenario *s;

    uint32_t line;
    uint32_t eol_col; /* column just past the line's last token */
    scn_tok toks[RF_SCN_TOKENS_MAX];
    uint32_t ntok, pos;
    char unescaped[RF_SCN_LINE_MAX];
    uint32_t unescaped_len;

    scn_ref *refs;
    uint32_t ref_count, ref_cap;
    /* Where each event's time was written, for the end-of-run check. */
    uint32_t *event_line, *event_col;
    uint32_t event_pos_cap;
    uint32_t seen; /* SCN_SEEN_* bits of the directives given once */

    /* Every group name declared so far, as an open-addressing hash set,
     * so duplicates are found on the line that repeats a name. */
    struct scn_gslot *gslots;
    uint32_t gslot_cap, gslot_count;
    uint64_t group_names; /* top-level names after expansion */

    /* Labels of `at` lines: event indexes in an open-addressing table
     * keyed by the label's hash (0 = empty slot, else index + 1). */
    uint32_t *lslots;
    uint32_t lslot_cap, lslot_count;
} scn_parser;

typedef struct scn_gslot {
    uint64_t hash;
    uint32_t source; /* group item index, or SCN_FROM_EVENT | event index */
    uint32_t index;  /* position within the item's range */
    bool used;
} scn_gslot;

#define SCN_FROM_EVENT 0x80000000u

enum {
    SCN_SEEN_SEED = 1u << 0,
    SCN_SEEN_RUN = 1u << 1,
    SCN_SEEN_RAFT = 1u << 2,
    SCN_SEEN_FLEET = 1u << 3,
    SCN_SEEN_DISK = 1u << 4,
    SCN_SEEN_NETWORK = 1u << 5,
    SCN_SEEN_LEASES = 1u << 6,
    SCN_SEEN_REPLICATION = 1u << 7,
};

/* Errors: record the first one and return false, so callers can write
 * `return scn_fail(...)`. */
bool scn_fail_col(scn_parser *p, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool scn_fail(scn_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Splits one line (without its newline) into tokens. */
bool scn_tokenize(scn_parser *p, const char *line, uint32_t len);

/* The token cursor. scn_peek returns NULL at the end of the line. */
const scn_tok *scn_peek(const scn_parser *p);
bool scn_at_end(const scn_parser *p);
bool scn_is(const scn_parser *p, const char *word);
bool scn_accept(scn_parser *p, const char *word);
bool scn_expect_word(scn_parser *p, const char *word, const char *what);
bool scn_expect_end(scn_parser *p);
bool scn_tok_eq(const scn_tok *t, const char *word);

/* Value readers: each consumes one token or fails pointing at it. */
bool scn_read_duration(scn_parser *p, uint64_t *ns, bool allow_zero);
bool scn_read_range(scn_parser *p, rf_scn_range *r, bool allow_zero);
bool scn_read_percent(scn_parser *p, uint32_t *ppm);
bool scn_read_uint(scn_parser *p, uint64_t lo, uint64_t hi, uint64_t *v);
bool scn_read_rate(scn_parser *p, uint32_t *count, uint64_t *per_ns);
bool scn_read_drift(scn_parser *p, int32_t *ppm);
bool scn_read_name(scn_parser *p, char *out, const char *what);
bool scn_read_label(scn_parser *p, char *out);
bool scn_read_model(scn_parser *p, char *out);
bool scn_read_text(scn_parser *p, char *out, const char *what);
bool scn_read_pattern(scn_parser *p, rf_scn_pattern *pat, bool allow_range);

/* Node and zone lookups; -1 when absent. */
int32_t scn_node_index(const rf_scenario *s, const char *name);
int32_t scn_zone_index(const rf_scenario *s, const char *name);

/* Reads a declared node name (or `random` when allowed) into *node. */
bool scn_read_node_ref(scn_parser *p, int32_t *node, bool allow_random);

/* Declares a node (top level or timeline `add node`); fails on a
 * duplicate name or past the bounds. */
bool scn_declare_node(scn_parser *p, const char *name, uint32_t name_col, const char *zone,
                      uint32_t zone_col, bool inactive, bool added, int32_t *index);

/* Registers the names of a top-level group item (duplicates fail) or of
 * a timeline `add group` (re-adding a name is allowed). */
bool scn_register_groups(scn_parser *p, uint32_t source, uint32_t col);

bool scn_add_ref(scn_parser *p, const rf_scn_pattern *pat, bool is_label, uint32_t col);

/* Directive parsers (scenario_parse.c, scenario_timeline.c). */
bool scn_parse_network_keys(scn_parser *p, rf_scn_network *net);
bool scn_parse_group_keys(scn_parser *p, rf_scn_group *g);
bool scn_parse_timeline(scn_parser *p, bool repeat);
bool scn_parse_expect(scn_parser *p);

/* Whole-file checks once every line is read (scenario_check.c). */
bool scn_check_file(scn_parser *p);

/* Makes room for item `count` of an array that grows (scenario_edit.c):
 * zero-fills it without counting it. NULL past max or out of memory. */
void *scn_reserve(void **arr, uint32_t *cap, uint32_t count, size_t size, uint32_t max);

/* Canonical spellings shared with the writer. */
void scn_format_duration(uint64_t ns, char *buf, size_t cap);
void scn_format_percent(uint32_t ppm, char *buf, size_t cap);

#endif
