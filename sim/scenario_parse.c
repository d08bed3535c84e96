/* scenario_parse: the scenario file's line loop and its cluster, group, workload and expect directives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/scenario_int.h"

rf_scenario *rf_scenario_new(void)
{
    rf_scenario *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    /* Defaults: RaftFleet's Raft timings, a LAN-like network. */
    s->seed = 1;
    s->run_ns = 60000000000ull;
    s->heartbeat_ns = 200000000ull;
    s->election.lo = 1000000000ull;
    s->election.hi = 2000000000ull;
    s->rebalance_ns = 10000000000ull;
    s->purge_ns = 600000000000ull;
    s->disk_latency.lo = 500000ull;
    s->disk_latency.hi = 2000000ull;
    s->net.set = RF_SCN_NET_LATENCY | RF_SCN_NET_JITTER | RF_SCN_NET_TAIL | RF_SCN_NET_LOSS |
                 RF_SCN_NET_DUP | RF_SCN_NET_REORDER;
    s->net.latency_ns = 1000000ull;
    s->net.jitter_ns = 1000000ull;
    return s;
}

void rf_scenario_free(rf_scenario *s)
{
    if (s == NULL)
        return;
    free(s->groups);
    free(s->workloads);
    free(s->events);
    free(s);
}

/* ---- nodes ---- */

int32_t scn_node_index(const rf_scenario *s, const char *name)
{
    for (uint32_t i = 0; i < s->node_count; i++)
        if (strcmp(s->nodes[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

int32_t scn_zone_index(const rf_scenario *s, const char *name)
{
    for (uint32_t i = 0; i < s->zone_count; i++)
        if (strcmp(s->zones[i], name) == 0)
            return (int32_t)i;
    return -1;
}

bool scn_declare_node(scn_parser *p, const char *name, uint32_t name_col, const char *zone,
                      uint32_t zone_col, bool inactive, bool added, int32_t *index)
{
    rf_scenario *s = p->s;
    static const char *reserved[] = {"random", "for", "as", "every", "from", "expect", "zone"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return scn_fail_col(p, name_col, "expected a node name that is not the word `%s`",
                                name);
    if (scn_node_index(s, name) >= 0)
        return scn_fail_col(p, name_col, "expected a new node name: %s is already declared", name);
    if (s->node_count == RF_SCN_NODES_MAX)
        return scn_fail_col(p, name_col, "expected at most %u nodes", RF_SCN_NODES_MAX);
    int rc = rf_scenario_add_node(s, name, zone, inactive, added, index);
    if (rc == RF_EFULL)
        return scn_fail_col(p, zone_col, "expected at most %u zones", RF_SCN_ZONES_MAX);
    ASSERT(rc == RF_OK); /* the names were read with the same rule */
    return true;
}

bool scn_read_node_ref(scn_parser *p, int32_t *node, bool allow_random)
{
    if (allow_random && scn_accept(p, "random")) {
        *node = RF_SCN_RANDOM_NODE;
        return true;
    }
    const scn_tok *t = scn_peek(p);
    char name[RF_SCN_NAME_MAX + 1];
    if (!scn_read_name(p, name, allow_random ? "a node name or `random`" : "a node name"))
        return false;
    *node = scn_node_index(p->s, name);
    if (*node < 0)
        return scn_fail_col(p, t->col, "expected a declared node: %s is not declared above", name);
    return true;
}

/* node NAME zone ZONE [inactive] */
static bool parse_node(scn_parser *p)
{
    char name[RF_SCN_NAME_MAX + 1], zone[RF_SCN_NAME_MAX + 1];
    uint32_t name_col = scn_peek(p) ? scn_peek(p)->col : p->eol_col;
    if (!scn_read_name(p, name, "a node name"))
        return false;
    if (!scn_expect_word(p, "zone", "and a zone name"))
        return false;
    uint32_t zone_col = scn_peek(p) ? scn_peek(p)->col : p->eol_col;
    if (!scn_read_name(p, zone, "a zone name"))
        return false;
    bool inactive = scn_accept(p, "inactive");
    int32_t idx;
    return scn_expect_end(p) &&
           scn_declare_node(p, name, name_col, zone, zone_col, inactive, false, &idx);
}

/* nodes PATTERN{lo..hi} zones Z1 [Z2 ...] [inactive]: zones round-robin. */
static bool parse_nodes(scn_parser *p)
{
    rf_scn_pattern pat;
    const scn_tok *t = scn_peek(p);
    if (!scn_read_pattern(p, &pat, true))
        return false;
    if (!pat.is_range)
        return scn_fail_col(p, t->col, "expected a range of node names such as n{1..5}");
    if (!scn_expect_word(p, "zones", "and one or more zone names"))
        return false;
    char zones[RF_SCN_ZONES_MAX][RF_SCN_NAME_MAX + 1];
    uint32_t zone_cols[RF_SCN_ZONES_MAX], nz = 0;
    while (!scn_at_end(p) && !scn_is(p, "inactive")) {
        if (nz == RF_SCN_ZONES_MAX)
            return scn_fail(p, "expected at most %u zones", RF_SCN_ZONES_MAX);
        zone_cols[nz] = scn_peek(p)->col;
        if (!scn_read_name(p, zones[nz], "a zone name"))
            return false;
        nz++;
    }
    if (nz == 0)
        return scn_fail(p, "expected a zone name");
    bool inactive = scn_accept(p, "inactive");
    if (!scn_expect_end(p))
        return false;
    for (uint32_t i = pat.lo, k = 0; i <= pat.hi; i++, k++) {
        char name[RF_SCN_GROUP_NAME_MAX + 16];
        rf_scn_pattern_name(&pat, i - pat.lo, name, sizeof name);
        if (strlen(name) > RF_SCN_NAME_MAX || strpbrk(name, ":/") != NULL)
            return scn_fail_col(p, t->col, "expected node names (1 to %u of A-Z a-z 0-9 . _ @ -)",
                                RF_SCN_NAME_MAX);
        int32_t idx;
        if (!scn_declare_node(p, name, t->col, zones[k % nz], zone_cols[k % nz], inactive, false,
                              &idx))
            return false;
    }
    return true;
}

/* ---- groups and workloads ---- */

/* group NAME | groups NAME{lo..hi}, then [replicas N] [model M]. */
static bool parse_group(scn_parser *p, bool bulk)
{
    rf_scenario *s = p->s;
    rf_scn_group *g = scn_reserve((void **)&s->groups, &s->group_cap, s->group_count,
                                  sizeof *s->groups, RF_SCN_GROUP_ITEMS_MAX);
    if (g == NULL)
        return scn_fail_col(p, 1, "expected at most %u group lines", RF_SCN_GROUP_ITEMS_MAX);
    const scn_tok *t = scn_peek(p);
    if (!scn_read_pattern(p, &g->names, bulk))
        return false;
    if (bulk && !g->names.is_range)
        return scn_fail_col(p, t->col, "expected a range of group names such as consensus{1..5}");
    if (!bulk && strcmp(g->names.prefix, "all") == 0)
        return scn_fail_col(p, t->col, "expected a group name other than `all`");
    g->replicas = 3;
    memcpy(g->model, "int", 4);
    if (!scn_parse_group_keys(p, g) || !scn_register_groups(p, s->group_count, t->col))
        return false;
    s->group_count++;
    return true;
}

bool scn_parse_group_keys(scn_parser *p, rf_scn_group *g)
{
    while (!scn_at_end(p)) {
        uint64_t v;
        if (scn_accept(p, "replicas")) {
            if (!scn_read_uint(p, 1, RF_SCN_REPLICAS_MAX, &v))
                return false;
            g->replicas = (uint32_t)v;
        } else if (scn_accept(p, "model")) {
            memset(g->model, 0, sizeof g->model);
            if (!scn_read_model(p, g->model))
                return false;
        } else {
            return scn_fail(p, "expected `replicas N`, `model NAME` or the end of the line");
        }
    }
    return true;
}

static bool parse_mix(scn_parser *p, rf_scn_workload *w)
{
    uint64_t total = 0;
    while (!scn_at_end(p) && !(scn_is(p, "until") && w->mix_count > 0)) {
        if (w->mix_count == RF_SCN_MIX_MAX)
            return scn_fail(p, "expected at most %u operations in a mix", RF_SCN_MIX_MAX);
        rf_scn_mix *m = &w->mix[w->mix_count];
        bool query = scn_accept(p, "query");
        bool command = !query && scn_accept(p, "command");
        if (!scn_read_text(p, m->op, "an operation such as inc or \"set 5\""))
            return false;
        m->query = query || (!command && rf_scn_op_is_query_by_default(m->op));
        if (!scn_read_percent(p, &m->ppm))
            return false;
        total += m->ppm;
        w->mix_count++;
    }
    if (w->mix_count == 0)
        return scn_fail(p, "expected an operation and its share, such as inc 50%%");
    if (total != RF_SCN_PPM_ONE)
        return scn_fail_col(p, p->toks[p->pos - 1].col,
                            "expected the mix's shares to add up to 100%%");
    return true;
}

bool rf_scn_op_is_query_by_default(const char *op)
{
    return strncmp(op, "get", 3) == 0 && (op[3] == '\0' || op[3] == ' ');
}

/* workload all|GROUPS clients N rate R mix OP PCT ... [until T] */
static bool parse_workload(scn_parser *p)
{
    rf_scenario *s = p->s;
    rf_scn_workload *w = scn_reserve((void **)&s->workloads, &s->workload_cap,
                                     s->workload_count, sizeof *s->workloads, RF_SCN_WORKLOADS_MAX);
    if (w == NULL)
        return scn_fail_col(p, 1, "expected at most %u workloads", RF_SCN_WORKLOADS_MAX);
    if (scn_accept(p, "all")) {
        w->all_groups = true;
    } else {
        uint32_t col = scn_peek(p) ? scn_peek(p)->col : p->eol_col;
        if (!scn_read_pattern(p, &w->groups, true) || !scn_add_ref(p, &w->groups, false, col))
            return false;
    }
    uint64_t v;
    if (!scn_expect_word(p, "clients", "and the number of clients per group") ||
        !scn_read_uint(p, 1, RF_SCN_CLIENTS_MAX, &v))
        return false;
    w->clients = (uint32_t)v;
    if (!scn_expect_word(p, "rate", "and a rate per client such as 10/s") ||
        !scn_read_rate(p, &w->rate, &w->rate_per_ns))
        return false;
    if (!scn_expect_word(p, "mix", "and the operations, such as mix inc 50% get 50%") ||
        !parse_mix(p, w))
        return false;
    if (scn_accept(p, "until") && !scn_read_duration(p, &w->until_ns, false))
        return false;
    if (!scn_expect_end(p))
        return false;
    s->workload_count++;
    return true;
}

/* ---- settings given once ---- */

static bool once(scn_parser *p, uint32_t bit, const char *name)
{
    if (p->seen & bit)
        return scn_fail_col(p, p->toks[0].col, "expected one `%s` line: it is already given", name);
    p->seen |= bit;
    return true;
}

static bool parse_raft(scn_parser *p)
{
    rf_scenario *s = p->s;
    uint32_t election_col = p->toks[0].col;
    if (scn_at_end(p))
        return scn_fail(p, "expected `heartbeat DURATION` or `election MIN..MAX`");
    while (!scn_at_end(p)) {
        if (scn_accept(p, "heartbeat")) {
            if (!scn_read_duration(p, &s->heartbeat_ns, false))
                return false;
        } else if (scn_accept(p, "election")) {
            const scn_tok *t = scn_peek(p);
            election_col = t != NULL ? t->col : p->eol_col;
            bool one = true;
            for (uint32_t i = 0; t != NULL && i + 1 < t->len; i++)
                one = one && !(t->s[i] == '.' && t->s[i + 1] == '.');
            if (!scn_read_range(p, &s->election, false))
                return false;
            if (one)
                s->election.hi = 2 * s->election.lo; /* RaftFleet's (T, 2T] */
        } else {
            return scn_fail(p, "expected `heartbeat DURATION` or `election MIN..MAX`");
        }
    }
    if (s->election.lo <= s->heartbeat_ns)
        return scn_fail_col(p, election_col,
                            "expected an election timeout longer than the heartbeat");
    return true;
}

/* `leases margin P%`: the margin must leave a lease (0% < P < 100%). */
static bool parse_leases(scn_parser *p)
{
    if (!scn_expect_word(p, "margin", "and the clock-drift margin, such as leases margin 10%"))
        return false;
    uint32_t col = scn_peek(p) != NULL ? scn_peek(p)->col : p->eol_col;
    uint32_t ppm;
    if (!scn_read_percent(p, &ppm))
        return false;
    if (ppm == 0 || ppm >= 1000000)
        return scn_fail_col(p, col, "expected a margin above 0%% and below 100%% of the "
                                    "election timeout");
    p->s->lease_margin_ppm = ppm;
    return scn_expect_end(p);
}

/* `replication batch N`: entries per append, raft's bound (RF_MSG_ENTRIES_MAX). */
static bool parse_replication(scn_parser *p)
{
    uint64_t v;
    if (!scn_expect_word(p, "batch", "and the entries per append, such as replication batch 4") ||
        !scn_read_uint(p, 1, 4096, &v))
        return false;
    p->s->append_batch = (uint32_t)v;
    return scn_expect_end(p);
}

static bool parse_fleet(scn_parser *p)
{
    rf_scenario *s = p->s;
    if (scn_at_end(p))
        return scn_fail(p, "expected `rebalance DURATION` or `purge-after DURATION`");
    while (!scn_at_end(p)) {
        if (scn_accept(p, "rebalance")) {
            if (!scn_read_duration(p, &s->rebalance_ns, false))
                return false;
        } else if (scn_accept(p, "purge-after")) {
            if (!scn_read_duration(p, &s->purge_ns, false))
                return false;
        } else {
            return scn_fail(p, "expected `rebalance DURATION` or `purge-after DURATION`");
        }
    }
    return true;
}

static bool parse_disk(scn_parser *p)
{
    if (!scn_expect_word(p, "latency", "and a duration or range such as 1ms..3ms"))
        return false;
    return scn_read_range(p, &p->s->disk_latency, true) && scn_expect_end(p);
}

/* The keys of `network` and of a timeline network change. */
bool scn_parse_network_keys(scn_parser *p, rf_scn_network *net)
{
    static const char keys[] =
        "expected `latency`, `jitter`, `tail`, `loss`, `dup` or `reorder` and its value";
    if (scn_at_end(p))
        return scn_fail(p, "%s", keys);
    while (!scn_at_end(p) && !scn_is(p, "for") && !scn_is(p, "as")) {
        bool ok;
        if (scn_accept(p, "latency")) {
            ok = scn_read_duration(p, &net->latency_ns, true);
            net->set |= RF_SCN_NET_LATENCY;
        } else if (scn_accept(p, "jitter")) {
            ok = scn_read_duration(p, &net->jitter_ns, true);
            net->set |= RF_SCN_NET_JITTER;
        } else if (scn_accept(p, "tail")) {
            ok = scn_read_percent(p, &net->tail_ppm) && scn_read_duration(p, &net->tail_ns, true);
            net->set |= RF_SCN_NET_TAIL;
        } else if (scn_accept(p, "loss")) {
            ok = scn_read_percent(p, &net->loss_ppm);
            net->set |= RF_SCN_NET_LOSS;
        } else if (scn_accept(p, "dup")) {
            ok = scn_read_percent(p, &net->dup_ppm);
            net->set |= RF_SCN_NET_DUP;
        } else if (scn_accept(p, "reorder")) {
            ok = scn_read_percent(p, &net->reorder_ppm);
            net->set |= RF_SCN_NET_REORDER;
        } else {
            return scn_fail(p, "%s", keys);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ---- the line loop ---- */

static bool parse_line(scn_parser *p)
{
    rf_scenario *s = p->s;
    uint64_t v;
    if (scn_accept(p, "seed"))
        return once(p, SCN_SEEN_SEED, "seed") && scn_read_uint(p, 0, UINT64_MAX, &v) &&
               ((s->seed = v), true) && scn_expect_end(p);
    if (scn_accept(p, "run"))
        return once(p, SCN_SEEN_RUN, "run") &&
               scn_expect_word(p, "for", "and how long to run, such as run for 60s") &&
               scn_read_duration(p, &s->run_ns, false) && scn_expect_end(p);
    if (scn_accept(p, "raft"))
        return once(p, SCN_SEEN_RAFT, "raft") && parse_raft(p);
    if (scn_accept(p, "fleet"))
        return once(p, SCN_SEEN_FLEET, "fleet") && parse_fleet(p);
    if (scn_accept(p, "disk"))
        return once(p, SCN_SEEN_DISK, "disk") && parse_disk(p);
    if (scn_accept(p, "leases"))
        return once(p, SCN_SEEN_LEASES, "leases") && parse_leases(p);
    if (scn_accept(p, "replication"))
        return once(p, SCN_SEEN_REPLICATION, "replication") && parse_replication(p);
    if (scn_accept(p, "network"))
        return once(p, SCN_SEEN_NETWORK, "network") && scn_parse_network_keys(p, &s->net) &&
               scn_expect_end(p);
    if (scn_accept(p, "node"))
        return parse_node(p);
    if (scn_accept(p, "nodes"))
        return parse_nodes(p);
    if (scn_accept(p, "group"))
        return parse_group(p, false);
    if (scn_accept(p, "groups"))
        return parse_group(p, true);
    if (scn_accept(p, "workload"))
        return parse_workload(p);
    if (scn_accept(p, "at"))
        return scn_parse_timeline(p, false);
    if (scn_accept(p, "every"))
        return scn_parse_timeline(p, true);
    if (scn_accept(p, "expect"))
        return scn_parse_expect(p);
    return scn_fail(p, "expected a directive: seed, run, raft, fleet, disk, leases, replication, "
                       "network, node, nodes, group, groups, workload, at, every or expect");
}

int rf_scenario_parse(const char *text, size_t len, const char *file, rf_scenario **out,
                      rf_scn_error *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    scn_parser *p = calloc(1, sizeof *p);
    if (p == NULL)
        return RF_ENOMEM;
    p->file = file != NULL ? file : "<scenario>";
    p->err = err;
    p->s = rf_scenario_new();
    if (p->s == NULL) {
        free(p);
        return RF_ENOMEM;
    }
    if (len > RF_SCN_FILE_BYTES_MAX)
        scn_fail_col(p, 0, "expected a file of at most %u bytes", RF_SCN_FILE_BYTES_MAX);
    size_t at = 0;
    while (!p->failed && at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t line_len = end - at;
        if (line_len > 0 && text[end - 1] == '\r')
            line_len--;
        p->line++;
        if (scn_tokenize(p, text + at, line_len > UINT32_MAX ? UINT32_MAX : (uint32_t)line_len) &&
            p->ntok > 0)
            parse_line(p);
        at = end + 1;
    }
    if (!p->failed) {
        p->line++;
        p->ntok = 0;
        p->eol_col = 1;
        scn_check_file(p);
    }
    int rc = p->failed ? RF_ESCENARIO : RF_OK;
    if (p->failed)
        rf_scenario_free(p->s);
    else
        *out = p->s;
    free(p->refs);
    free(p->event_line);
    free(p->event_col);
    free(p->gslots);
    free(p->lslots);
    free(p);
    return rc;
}

int rf_scenario_load(const char *path, rf_scenario **out, rf_scn_error *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err->message, sizeof err->message, "cannot open: %s", strerror(errno));
        snprintf(err->text, sizeof err->text, "%s:0:0: %s", path, err->message);
        return RF_ESCENARIO;
    }
    char *buf = malloc(RF_SCN_FILE_BYTES_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, RF_SCN_FILE_BYTES_MAX + 1, f) : 0;
    bool read_error = ferror(f) != 0;
    fclose(f);
    if (buf == NULL)
        return RF_ENOMEM;
    if (read_error) {
        free(buf);
        snprintf(err->message, sizeof err->message, "cannot read the file");
        snprintf(err->text, sizeof err->text, "%s:0:0: %s", path, err->message);
        return RF_ESCENARIO;
    }
    int rc = rf_scenario_parse(buf, n, path, out, err);
    free(buf);
    return rc;
}
