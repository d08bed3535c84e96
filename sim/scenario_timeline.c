/* scenario_timeline: the `at` and `every` lines (faults, churn, client operations) and `expect` lines. */
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_int.h"

bool scn_add_ref(scn_parser *p, const rf_scn_pattern *pat, bool is_label, uint32_t col)
{
    if (p->ref_count == p->ref_cap) {
        uint32_t cap = p->ref_cap == 0 ? 16 : p->ref_cap * 2;
        scn_ref *n = realloc(p->refs, (size_t)cap * sizeof *n);
        if (n == NULL)
            return scn_fail_col(p, col, "out of memory");
        p->refs = n;
        p->ref_cap = cap;
    }
    scn_ref *r = &p->refs[p->ref_count++];
    r->pattern = *pat;
    r->is_label = is_label;
    r->line = p->line;
    r->col = col;
    return true;
}

static uint32_t cur_col(const scn_parser *p)
{
    const scn_tok *t = scn_peek(p);
    return t != NULL ? t->col : p->eol_col;
}

static void set_add(rf_scn_nodeset *s, uint32_t i)
{
    s->bits[i / 64] |= 1ull << (i % 64);
}

static bool at_clause_end(const scn_parser *p)
{
    return scn_at_end(p) || scn_is(p, "for") || scn_is(p, "as") || scn_is(p, "every");
}

/* Node names until `stop` (or a clause keyword), into set; `used` holds the
 * nodes already placed in a set of this partition. */
static bool read_node_set(scn_parser *p, rf_scn_nodeset *set, rf_scn_nodeset *used,
                          const char *stop)
{
    bool any = false;
    while (!at_clause_end(p) && !scn_is(p, stop) && !scn_is(p, "->")) {
        uint32_t col = cur_col(p);
        int32_t n;
        if (!scn_read_node_ref(p, &n, false))
            return false;
        if (rf_scn_nodeset_has(used, (uint32_t)n))
            return scn_fail_col(p, col, "expected each node once: %s is already in a set",
                                p->s->nodes[n].name);
        set_add(set, (uint32_t)n);
        set_add(used, (uint32_t)n);
        any = true;
    }
    if (!any)
        return scn_fail(p, "expected a node name");
    return true;
}

/* zone Z | random | N1 N2 [| N3 ...]... */
static bool read_partition(scn_parser *p, rf_scn_partition *part)
{
    if (scn_accept(p, "zone")) {
        part->kind = RF_SCN_PART_ZONE;
        uint32_t col = cur_col(p);
        char zone[RF_SCN_NAME_MAX + 1];
        if (!scn_read_name(p, zone, "a zone name"))
            return false;
        int32_t z = scn_zone_index(p->s, zone);
        if (z < 0)
            return scn_fail_col(p, col, "expected a zone with nodes: %s has none declared above",
                                zone);
        part->zone = (uint32_t)z;
        return true;
    }
    if (scn_accept(p, "random")) {
        part->kind = RF_SCN_PART_RANDOM;
        return true;
    }
    part->kind = RF_SCN_PART_SETS;
    rf_scn_nodeset used;
    memset(&used, 0, sizeof used);
    for (;;) {
        if (part->set_count == RF_SCN_SETS_MAX)
            return scn_fail(p, "expected at most %u sets in a partition", RF_SCN_SETS_MAX);
        if (!read_node_set(p, &part->sets[part->set_count++], &used, "|"))
            return false;
        if (!scn_accept(p, "|"))
            return true;
    }
}

/* NODE | random | leader-of GROUP: the node a fault hits. */
static bool read_target(scn_parser *p, rf_scn_event *e, int32_t *node)
{
    if (!scn_accept(p, "leader-of"))
        return scn_read_node_ref(p, node, true);
    *node = RF_SCN_LEADER_OF;
    uint32_t col = cur_col(p);
    return scn_read_pattern(p, &e->group.names, false) &&
           scn_add_ref(p, &e->group.names, false, col);
}

static bool read_disk_fault(scn_parser *p, rf_scn_event *e)
{
    if (!read_target(p, e, &e->node))
        return false;
    if (scn_accept(p, "fail")) {
        if (scn_accept(p, "writes"))
            e->disk = RF_SCN_DISK_FAIL_WRITES;
        else if (scn_accept(p, "syncs"))
            e->disk = RF_SCN_DISK_FAIL_SYNCS;
        else
            return scn_fail(p, "expected `writes` or `syncs`");
        return true;
    }
    if (scn_accept(p, "full")) {
        e->disk = RF_SCN_DISK_FULL;
        return true;
    }
    if (scn_accept(p, "flip")) {
        e->disk = RF_SCN_DISK_FLIP_BITS;
        return scn_expect_word(p, "bits", "and the share of reads that flip a bit") &&
               scn_read_percent(p, &e->flip_ppm);
    }
    return scn_fail(p, "expected a disk fault: `fail writes`, `fail syncs`, `full` or `flip bits P%%`");
}

/* command|query GROUP OP [from NODE|random] [expect REPLY | expect error NAME] */
static bool read_client_op(scn_parser *p, rf_scn_event *e)
{
    uint32_t col = cur_col(p);
    if (!scn_read_pattern(p, &e->group.names, false) ||
        !scn_add_ref(p, &e->group.names, false, col))
        return false;
    if (!scn_read_text(p, e->op, "an operation such as inc or \"set 5\""))
        return false;
    e->node = RF_SCN_RANDOM_NODE;
    if (scn_accept(p, "from") && !scn_read_node_ref(p, &e->node, true))
        return false;
    if (scn_accept(p, "expect")) {
        e->expect = RF_SCN_EXPECT_REPLY;
        if (scn_accept(p, "error")) {
            e->expect = RF_SCN_EXPECT_ERROR;
            return scn_read_label(p, e->reply);
        }
        return scn_read_text(p, e->reply, "the expected reply");
    }
    return true;
}

static bool read_add(scn_parser *p, rf_scn_event *e)
{
    if (scn_accept(p, "node")) {
        e->kind = RF_SCN_EV_ADD_NODE;
        char name[RF_SCN_NAME_MAX + 1], zone[RF_SCN_NAME_MAX + 1];
        uint32_t name_col = cur_col(p);
        if (!scn_read_name(p, name, "a node name") ||
            !scn_expect_word(p, "zone", "and a zone name"))
            return false;
        uint32_t zone_col = cur_col(p);
        if (!scn_read_name(p, zone, "a zone name"))
            return false;
        bool inactive = scn_accept(p, "inactive");
        return scn_declare_node(p, name, name_col, zone, zone_col, inactive, true, &e->node);
    }
    if (scn_accept(p, "group")) {
        e->kind = RF_SCN_EV_ADD_GROUP;
        const scn_tok *t = scn_peek(p);
        if (!scn_read_pattern(p, &e->group.names, false))
            return false;
        if (strcmp(e->group.names.prefix, "all") == 0)
            return scn_fail_col(p, t->col, "expected a group name other than `all`");
        e->group.replicas = 3;
        memcpy(e->group.model, "int", 4);
        while (scn_is(p, "replicas") || scn_is(p, "model")) {
            uint64_t v;
            if (scn_accept(p, "replicas")) {
                if (!scn_read_uint(p, 1, RF_SCN_REPLICAS_MAX, &v))
                    return false;
                e->group.replicas = (uint32_t)v;
            } else {
                scn_accept(p, "model");
                memset(e->group.model, 0, sizeof e->group.model);
                if (!scn_read_model(p, e->group.model))
                    return false;
            }
        }
        return scn_register_groups(p, SCN_FROM_EVENT | p->s->event_count, t->col);
    }
    return scn_fail(p, "expected `node` or `group` after `add`");
}

static bool read_remove(scn_parser *p, rf_scn_event *e)
{
    if (scn_accept(p, "node")) {
        e->kind = RF_SCN_EV_REMOVE_NODE;
        return read_target(p, e, &e->node);
    }
    if (scn_accept(p, "group")) {
        e->kind = RF_SCN_EV_REMOVE_GROUP;
        uint32_t col = cur_col(p);
        return scn_read_pattern(p, &e->group.names, false) &&
               scn_add_ref(p, &e->group.names, false, col);
    }
    return scn_fail(p, "expected `node` or `group` after `remove`");
}

/* cut SENDERS -> RECEIVERS */
static bool read_cut(scn_parser *p, rf_scn_event *e)
{
    e->kind = RF_SCN_EV_CUT;
    rf_scn_nodeset used;
    memset(&used, 0, sizeof used);
    e->part.set_count = 2;
    return read_node_set(p, &e->part.sets[0], &used, "->") &&
           scn_expect_word(p, "->", "between the senders and the receivers") &&
           read_node_set(p, &e->part.sets[1], &used, "->");
}

/* clog A [->] B */
static bool read_clog(scn_parser *p, rf_scn_event *e)
{
    e->kind = RF_SCN_EV_CLOG;
    if (!scn_read_node_ref(p, &e->node, false))
        return false;
    e->one_way = scn_accept(p, "->");
    uint32_t col = cur_col(p);
    if (!scn_read_node_ref(p, &e->node2, false))
        return false;
    if (e->node2 == e->node)
        return scn_fail_col(p, col, "expected a second, different node");
    return true;
}

/* Node actions that take one node (or `random`). */
static const struct {
    const char *word;
    rf_scn_event_kind kind;
} node_actions[] = {
    {"crash", RF_SCN_EV_CRASH},         {"restart", RF_SCN_EV_RESTART},
    {"pause", RF_SCN_EV_PAUSE},         {"resume", RF_SCN_EV_RESUME},
    {"activate", RF_SCN_EV_ACTIVATE},   {"deactivate", RF_SCN_EV_DEACTIVATE},
};

static bool read_action(scn_parser *p, rf_scn_event *e)
{
    for (size_t i = 0; i < sizeof node_actions / sizeof node_actions[0]; i++) {
        if (scn_accept(p, node_actions[i].word)) {
            e->kind = node_actions[i].kind;
            return read_target(p, e, &e->node);
        }
    }
    if (scn_accept(p, "partition")) {
        e->kind = RF_SCN_EV_PARTITION;
        return read_partition(p, &e->part);
    }
    if (scn_accept(p, "isolate")) {
        e->kind = RF_SCN_EV_PARTITION;
        e->part.kind = RF_SCN_PART_NODE;
        return read_target(p, e, &e->part.node);
    }
    if (scn_accept(p, "cut"))
        return read_cut(p, e);
    if (scn_accept(p, "flap")) {
        e->kind = RF_SCN_EV_FLAP;
        return read_partition(p, &e->part) &&
               scn_expect_word(p, "every", "and how often the partition flips, such as every 2s") &&
               scn_read_range(p, &e->flap_period, false);
    }
    if (scn_accept(p, "clog"))
        return read_clog(p, e);
    if (scn_accept(p, "heal")) {
        e->kind = RF_SCN_EV_HEAL;
        return true;
    }
    if (scn_accept(p, "network")) {
        e->kind = RF_SCN_EV_NETWORK;
        return scn_parse_network_keys(p, &e->net);
    }
    if (scn_accept(p, "drift")) {
        e->kind = RF_SCN_EV_DRIFT;
        return read_target(p, e, &e->node) && scn_read_drift(p, &e->drift_ppm);
    }
    if (scn_accept(p, "disk")) {
        e->kind = RF_SCN_EV_DISK;
        return read_disk_fault(p, e);
    }
    if (scn_accept(p, "add"))
        return read_add(p, e);
    if (scn_accept(p, "remove"))
        return read_remove(p, e);
    if (scn_accept(p, "command") || scn_accept(p, "query")) {
        e->kind = scn_tok_eq(&p->toks[p->pos - 1], "command") ? RF_SCN_EV_COMMAND : RF_SCN_EV_QUERY;
        return read_client_op(p, e);
    }
    return scn_fail(p, "expected an action: partition, isolate, cut, flap, clog, heal, network, "
                       "crash, restart, pause, resume, drift, disk, add, remove, activate, "
                       "deactivate, command or query");
}

static bool has_duration(rf_scn_event_kind k)
{
    return k == RF_SCN_EV_PARTITION || k == RF_SCN_EV_CUT || k == RF_SCN_EV_FLAP ||
           k == RF_SCN_EV_CLOG || k == RF_SCN_EV_NETWORK || k == RF_SCN_EV_CRASH ||
           k == RF_SCN_EV_PAUSE || k == RF_SCN_EV_DRIFT || k == RF_SCN_EV_DISK;
}

static bool happens_once(rf_scn_event_kind k)
{
    return k == RF_SCN_EV_ADD_NODE || k == RF_SCN_EV_ADD_GROUP || k == RF_SCN_EV_REMOVE_GROUP;
}

static bool read_when(scn_parser *p, rf_scn_event *e)
{
    if (!e->repeat)
        return scn_read_range(p, &e->at, true);
    if (!scn_read_range(p, &e->period, false))
        return false;
    if (e->period.lo < 1000000ull)
        return scn_fail_col(p, p->toks[p->pos - 1].col, "expected a period of at least 1ms");
    if (scn_accept(p, "from") && !scn_read_duration(p, &e->at.lo, true))
        return false;
    if (scn_accept(p, "until")) {
        if (!scn_read_duration(p, &e->at.hi, false))
            return false;
        if (e->at.hi <= e->at.lo)
            return scn_fail_col(p, p->toks[p->pos - 1].col, "expected `until` after `from`");
    }
    return true;
}

static uint32_t label_hash(const char *label)
{
    uint32_t h = 2166136261u; /* FNV-1a; equal hashes are told apart by strcmp */
    for (const char *c = label; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return h;
}

/* Records the label of event `index`; false when another line has it
 * (or memory runs out: then *oom is set). */
static bool label_add(scn_parser *p, uint32_t index, bool *oom)
{
    *oom = false;
    if ((p->lslot_count + 1) * 2 > p->lslot_cap) {
        uint32_t cap = p->lslot_cap == 0 ? 64 : p->lslot_cap * 2;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (slots == NULL) {
            *oom = true;
            return false;
        }
        for (uint32_t i = 0; i < p->lslot_cap; i++) {
            if (p->lslots[i] == 0)
                continue;
            uint32_t j = label_hash(p->s->events[p->lslots[i] - 1].label) & (cap - 1);
            while (slots[j] != 0)
                j = (j + 1) & (cap - 1);
            slots[j] = p->lslots[i];
        }
        free(p->lslots);
        p->lslots = slots;
        p->lslot_cap = cap;
    }
    const char *label = p->s->events[index].label;
    uint32_t j = label_hash(label) & (p->lslot_cap - 1);
    for (; p->lslots[j] != 0; j = (j + 1) & (p->lslot_cap - 1))
        if (strcmp(p->s->events[p->lslots[j] - 1].label, label) == 0)
            return false;
    p->lslots[j] = index + 1;
    p->lslot_count++;
    return true;
}

bool scn_parse_timeline(scn_parser *p, bool repeat)
{
    rf_scenario *s = p->s;
    rf_scn_event *e = scn_reserve((void **)&s->events, &s->event_cap, s->event_count,
                                  sizeof *s->events, RF_SCN_EVENTS_MAX);
    if (e == NULL)
        return scn_fail_col(p, 1, "expected at most %u timeline lines", RF_SCN_EVENTS_MAX);
    if (s->event_count == p->event_pos_cap) {
        uint32_t cap = p->event_pos_cap == 0 ? 16 : p->event_pos_cap * 2;
        uint32_t *l = realloc(p->event_line, (size_t)cap * sizeof *l);
        if (l != NULL)
            p->event_line = l;
        uint32_t *c = l != NULL ? realloc(p->event_col, (size_t)cap * sizeof *c) : NULL;
        if (c == NULL)
            return scn_fail_col(p, 1, "out of memory");
        p->event_col = c;
        p->event_pos_cap = cap;
    }
    rf_scn_event_init(e, RF_SCN_EV_HEAL);
    e->repeat = repeat;
    p->event_line[s->event_count] = p->line;
    p->event_col[s->event_count] = cur_col(p);
    if (!read_when(p, e))
        return false;
    uint32_t action_col = cur_col(p);
    if (!read_action(p, e))
        return false;
    if (repeat && happens_once(e->kind))
        return scn_fail_col(p, action_col, "expected `at`: `add` and `remove group` happen once");
    if (scn_is(p, "for")) {
        if (!has_duration(e->kind))
            return scn_fail(p, "expected the end of the line: this action has no duration");
        p->pos++;
        if (!scn_read_range(p, &e->lasts, false))
            return false;
    }
    if (scn_is(p, "as")) {
        if (repeat)
            return scn_fail(p, "expected the end of the line: an `every` line has no label");
        p->pos++;
        uint32_t col = cur_col(p);
        if (!scn_read_label(p, e->label))
            return false;
        if (strcmp(e->label, "faults") == 0 || strcmp(e->label, "start") == 0)
            return scn_fail_col(p, col, "expected a label other than `faults` or `start`");
        bool oom;
        if (!label_add(p, s->event_count, &oom))
            return scn_fail_col(p, col, "%s%s%s", oom ? "out of memory" : "expected a new label: ",
                                oom ? "" : e->label, oom ? "" : " is already used");
    }
    if (!scn_expect_end(p))
        return false;
    s->event_count++;
    return true;
}

/* ---- expectations ---- */

static bool read_after(scn_parser *p, rf_scn_expect *x)
{
    x->after = RF_SCN_AFTER_FAULTS;
    if (!scn_accept(p, "after"))
        return true;
    if (scn_accept(p, "faults"))
        return true;
    if (scn_accept(p, "start")) {
        x->after = RF_SCN_AFTER_START;
        return true;
    }
    x->after = RF_SCN_AFTER_LABEL;
    uint32_t col = cur_col(p);
    if (!scn_read_label(p, x->label))
        return false;
    rf_scn_pattern pat;
    memset(&pat, 0, sizeof pat);
    memcpy(pat.prefix, x->label, strlen(x->label));
    return scn_add_ref(p, &pat, true, col);
}

bool scn_parse_expect(scn_parser *p)
{
    rf_scenario *s = p->s;
    if (s->expect_count == RF_SCN_EXPECTS_MAX)
        return scn_fail_col(p, 1, "expected at most %u expect lines", RF_SCN_EXPECTS_MAX);
    rf_scn_expect *x = &s->expects[s->expect_count];
    memset(x, 0, sizeof *x);
    bool ok;
    if (scn_accept(p, "linearizable")) {
        x->kind = RF_SCN_EXP_LINEARIZABLE;
        ok = true;
    } else if (scn_accept(p, "safety")) {
        x->kind = RF_SCN_EXP_SAFETY;
        ok = true;
    } else if (scn_accept(p, "leader")) {
        x->kind = RF_SCN_EXP_LEADERS;
        static const char form[] = "(expect leader in every group within DURATION [after X])";
        ok = scn_expect_word(p, "in", form) && scn_expect_word(p, "every", form) &&
             scn_expect_word(p, "group", form) && scn_expect_word(p, "within", form) &&
             scn_read_duration(p, &x->within_ns, false) && read_after(p, x);
    } else if (scn_accept(p, "placement")) {
        x->kind = RF_SCN_EXP_CONVERGED;
        static const char form[] = "(expect placement converged within DURATION [after X])";
        ok = scn_expect_word(p, "converged", form) && scn_expect_word(p, "within", form) &&
             scn_read_duration(p, &x->within_ns, false) && read_after(p, x);
    } else if (scn_accept(p, "moves")) {
        x->kind = RF_SCN_EXP_MOVES;
        uint64_t v = 0;
        static const char form[] = "(expect moves at most N [over minimal] after LABEL)";
        ok = scn_expect_word(p, "at", form) && scn_expect_word(p, "most", form) &&
             scn_read_uint(p, 0, 1000000000, &v);
        x->moves = (uint32_t)v;
        if (ok && scn_accept(p, "over")) {
            x->over_minimal = true;
            ok = scn_expect_word(p, "minimal", form);
        }
        ok = ok && scn_expect_word(p, "after", form) && (p->pos--, true);
        ok = ok && read_after(p, x);
        if (ok && x->after != RF_SCN_AFTER_LABEL)
            ok = scn_fail_col(p, p->toks[p->pos - 1].col,
                              "expected the label of an add, remove, activate or deactivate line");
    } else if (scn_accept(p, "unavailability")) {
        x->kind = RF_SCN_EXP_UNAVAILABLE;
        static const char form[] = "(expect unavailability at most DURATION per group)";
        ok = scn_expect_word(p, "at", form) && scn_expect_word(p, "most", form) &&
             scn_read_duration(p, &x->unavailable_ns, true) && scn_expect_word(p, "per", form) &&
             scn_expect_word(p, "group", form);
    } else {
        ok = scn_fail(p, "expected an expectation: linearizable, safety, leader, placement, moves "
                         "or unavailability");
    }
    if (!ok || !scn_expect_end(p))
        return false;
    s->expect_count++;
    return true;
}
