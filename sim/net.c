/* sim/net: fault decisions for each message, drawn from the network's own PCG stream. */
#include "sim/net.h"

#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

void rf_sim_net_init(rf_sim_net *net, rf_sim_engine *e, uint32_t nodes,
                     const rf_sim_net_config *cfg)
{
    ASSERT(nodes > 0);
    ASSERT(nodes <= RF_SIM_NODES_MAX);
    memset(net, 0, sizeof(*net));
    net->nodes = nodes;
    net->cfg = *cfg;
    net->trace = &e->trace;
    rf_sim_engine_stream(e, &net->rng, "network", 0);
}

rf_sim_nodeset rf_sim_net_all(const rf_sim_net *net)
{
    return net->nodes == 64 ? ~(rf_sim_nodeset)0 : (((rf_sim_nodeset)1 << net->nodes) - 1);
}

void rf_sim_net_set_zone(rf_sim_net *net, uint32_t node, uint32_t zone)
{
    ASSERT(node < net->nodes);
    net->zone[node] = zone;
}

rf_sim_nodeset rf_sim_net_zone_nodes(const rf_sim_net *net, uint32_t zone)
{
    rf_sim_nodeset s = 0;
    for (uint32_t i = 0; i < net->nodes; i++)
        if (net->zone[i] == zone)
            s |= (rf_sim_nodeset)1 << i;
    return s;
}

int rf_sim_net_zone_id(const rf_sim_net *net, const char *name, uint32_t *zone)
{
    for (uint32_t i = 0; i < net->zones_named; i++) {
        if (strcmp(net->zone_names[i], name) == 0) {
            *zone = i;
            return RF_OK;
        }
    }
    return RF_ENOTFOUND;
}

int rf_sim_net_set_zone_name(rf_sim_net *net, uint32_t node, const char *name)
{
    ASSERT(node < net->nodes);
    size_t len = strlen(name);
    if (len == 0 || len > RF_SIM_ZONE_NAME_MAX)
        return RF_EBADNAME;
    uint32_t z;
    if (rf_sim_net_zone_id(net, name, &z) != RF_OK) {
        if (net->zones_named == RF_SIM_ZONES_MAX)
            return RF_EFULL;
        z = net->zones_named++;
        memcpy(net->zone_names[z], name, len + 1);
    }
    net->zone[node] = z;
    return RF_OK;
}

static void cut_apply(rf_sim_net *net, const rf_sim_cut *cut, int delta)
{
    for (uint32_t i = 0; i < net->nodes; i++) {
        for (uint32_t j = 0; j < net->nodes; j++) {
            if (i == j)
                continue;
            bool fwd = (cut->from >> i & 1) && (cut->to >> j & 1);
            bool back = cut->both && (cut->to >> i & 1) && (cut->from >> j & 1);
            if (fwd || back)
                net->cut_count[i][j] = (uint16_t)(net->cut_count[i][j] + delta);
        }
    }
}

static uint32_t cut_add(rf_sim_net *net, rf_sim_nodeset from, rf_sim_nodeset to, bool both)
{
    for (uint32_t id = 0; id < RF_SIM_CUTS_MAX; id++) {
        rf_sim_cut *cut = &net->cuts[id];
        if (cut->active)
            continue;
        *cut = (rf_sim_cut){.from = from, .to = to, .both = both, .active = true};
        cut_apply(net, cut, +1);
        return id;
    }
    return RF_SIM_CUT_NONE;
}

uint32_t rf_sim_net_cut_oneway(rf_sim_net *net, rf_sim_nodeset from, rf_sim_nodeset to)
{
    return cut_add(net, from, to, false);
}

uint32_t rf_sim_net_partition(rf_sim_net *net, rf_sim_nodeset a, rf_sim_nodeset b)
{
    return cut_add(net, a, b, true);
}

uint32_t rf_sim_net_isolate(rf_sim_net *net, uint32_t node)
{
    ASSERT(node < net->nodes);
    rf_sim_nodeset me = (rf_sim_nodeset)1 << node;
    return rf_sim_net_partition(net, me, rf_sim_net_all(net) & ~me);
}

uint32_t rf_sim_net_cut_zone(rf_sim_net *net, uint32_t zone)
{
    rf_sim_nodeset z = rf_sim_net_zone_nodes(net, zone);
    return rf_sim_net_partition(net, z, rf_sim_net_all(net) & ~z);
}

void rf_sim_net_heal_cut(rf_sim_net *net, uint32_t id)
{
    if (id >= RF_SIM_CUTS_MAX || !net->cuts[id].active)
        return;
    cut_apply(net, &net->cuts[id], -1);
    net->cuts[id].active = false;
}

void rf_sim_net_clog(rf_sim_net *net, uint32_t from, uint32_t to, uint64_t until_ns)
{
    ASSERT(from < net->nodes);
    ASSERT(to < net->nodes);
    net->clog_until_ns[from][to] = until_ns;
}

int rf_sim_net_flap(rf_sim_net *net, rf_sim_nodeset a, rf_sim_nodeset b, uint64_t start_ns,
                    uint64_t period_ns, uint64_t until_ns)
{
    if (period_ns < 2)
        return RF_EINVAL;
    if (net->flaps_len == RF_SIM_FLAPS_MAX)
        return RF_EFULL;
    net->flaps[net->flaps_len++] = (rf_sim_flap){
        .a = a, .b = b, .start_ns = start_ns, .period_ns = period_ns, .until_ns = until_ns};
    return RF_OK;
}

void rf_sim_net_heal(rf_sim_net *net)
{
    memset(net->cuts, 0, sizeof(net->cuts));
    memset(net->cut_count, 0, sizeof(net->cut_count));
    memset(net->clog_until_ns, 0, sizeof(net->clog_until_ns));
    net->flaps_len = 0;
}

static bool flap_cuts(const rf_sim_flap *f, rf_sim_nodeset from, rf_sim_nodeset to,
                      uint64_t now_ns)
{
    if (now_ns < f->start_ns || now_ns >= f->until_ns)
        return false;
    bool between = ((f->a & from) && (f->b & to)) || ((f->b & from) && (f->a & to));
    if (!between)
        return false;
    uint64_t phase = (now_ns - f->start_ns) % f->period_ns;
    return phase < f->period_ns / 2;
}

bool rf_sim_net_is_cut(const rf_sim_net *net, uint32_t from, uint32_t to, uint64_t now_ns)
{
    ASSERT(from < net->nodes);
    ASSERT(to < net->nodes);
    if (net->cut_count[from][to] > 0)
        return true;
    for (uint32_t i = 0; i < net->flaps_len; i++)
        if (flap_cuts(&net->flaps[i], (rf_sim_nodeset)1 << from, (rf_sim_nodeset)1 << to, now_ns))
            return true;
    return false;
}

bool rf_sim_net_faulty(const rf_sim_net *net, uint64_t now_ns)
{
    for (uint32_t i = 0; i < RF_SIM_CUTS_MAX; i++)
        if (net->cuts[i].active)
            return true;
    for (uint32_t i = 0; i < net->nodes; i++) {
        for (uint32_t j = 0; j < net->nodes; j++)
            if (net->clog_until_ns[i][j] > now_ns)
                return true;
    }
    for (uint32_t i = 0; i < net->flaps_len; i++)
        if (now_ns < net->flaps[i].until_ns)
            return true;
    return false;
}

/* A draw that decides an event is hashed into the trace, so two runs
 * whose random choices diverge have different hashes. */
static uint32_t draw_ppm(rf_sim_net *net)
{
    uint32_t v = rf_pcg32_bounded(&net->rng, RF_SIM_PPM);
    if (net->trace != NULL)
        rf_sim_trace_u64(net->trace, v);
    return v;
}

static uint64_t draw_latency(rf_sim_net *net)
{
    uint64_t d = net->cfg.latency_ns_base;
    if (net->cfg.latency_ns_jitter > 0)
        d += rf_pcg32_range64(&net->rng, 0, net->cfg.latency_ns_jitter);
    if (net->cfg.tail_ppm > 0 && draw_ppm(net) < net->cfg.tail_ppm) {
        d += rf_pcg32_range64(&net->rng, 0, net->cfg.tail_ns_max);
        net->stats.tailed++;
    }
    if (net->trace != NULL)
        rf_sim_trace_u64(net->trace, d);
    return d;
}

uint32_t rf_sim_net_send(rf_sim_net *net, uint64_t now_ns, uint32_t from, uint32_t to,
                         uint64_t at_ns[2])
{
    net->stats.sent++;
    if (rf_sim_net_is_cut(net, from, to, now_ns)) {
        net->stats.cut++;
        return 0;
    }
    if (net->cfg.loss_ppm > 0 && draw_ppm(net) < net->cfg.loss_ppm) {
        net->stats.lost++;
        return 0;
    }
    uint32_t copies = 1;
    if (net->cfg.dup_ppm > 0 && draw_ppm(net) < net->cfg.dup_ppm) {
        copies = 2;
        net->stats.duplicated++;
    }
    uint64_t clog = net->clog_until_ns[from][to];
    for (uint32_t i = 0; i < copies; i++) {
        uint64_t start = now_ns;
        if (clog > now_ns) {
            /* A clogged link holds the message until it unclogs. */
            start = clog;
            net->stats.clogged++;
        }
        at_ns[i] = start + draw_latency(net);
    }
    return copies;
}
