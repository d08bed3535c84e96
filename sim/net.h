/* sim/net: the simulated network: latency, loss, duplication, reordering, partitions, clogs. */
#ifndef SIM_NET_H
#define SIM_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/rf_pcg.h"
#include "sim/engine.h"

/* Node sets are 64-bit masks (bit i = node index i), so a simulated
 * cluster has at most 64 nodes. */
#define RF_SIM_NODES_MAX 64
#define RF_SIM_FLAPS_MAX 16
#define RF_SIM_CUTS_MAX 64          /* cuts in force at once */
#define RF_SIM_CUT_NONE UINT32_MAX  /* no cut was made (the table is full) */
#define RF_SIM_PPM 1000000u /* probabilities are in parts per million */
#define RF_SIM_ZONES_MAX 16
#define RF_SIM_ZONE_NAME_MAX 31 /* bytes */

typedef uint64_t rf_sim_nodeset;

typedef struct rf_sim_net_config {
    uint64_t latency_ns_base;   /* every message takes at least this */
    uint64_t latency_ns_jitter; /* plus a uniform draw in [0, jitter]: reorders */
    uint32_t tail_ppm;          /* chance of an extra long-tail delay */
    uint64_t tail_ns_max;       /* the tail delay is uniform in [0, tail_ns_max] */
    uint32_t loss_ppm;          /* chance a message is lost */
    uint32_t dup_ppm;           /* chance a message is delivered twice */
} rf_sim_net_config;

/* A flapping partition: between sets a and b the links are cut during
 * the first half of every period_ns from start_ns, healed in the second,
 * until until_ns. */
typedef struct rf_sim_flap {
    rf_sim_nodeset a, b;
    uint64_t start_ns, period_ns, until_ns;
} rf_sim_flap;

/* One cut in force: every link from a node of `from` to a node of `to`
 * (and back when both). Cuts overlap freely; a link is down while any cut
 * covers it, so healing one cut never shortens another. */
typedef struct rf_sim_cut {
    rf_sim_nodeset from, to;
    bool both, active;
} rf_sim_cut;

typedef struct rf_sim_net_stats {
    uint64_t sent, delivered, lost, cut, duplicated, tailed, clogged;
} rf_sim_net_stats;

typedef struct rf_sim_net {
    uint32_t nodes;
    rf_sim_net_config cfg;
    rf_pcg32 rng;          /* the "network" stream */
    rf_sim_trace *trace;   /* draws are hashed here; may be NULL */
    uint32_t zone[RF_SIM_NODES_MAX];
    char zone_names[RF_SIM_ZONES_MAX][RF_SIM_ZONE_NAME_MAX + 1]; /* zone id -> name */
    uint32_t zones_named;
    rf_sim_cut cuts[RF_SIM_CUTS_MAX];
    uint16_t cut_count[RF_SIM_NODES_MAX][RF_SIM_NODES_MAX]; /* [from][to]: cuts covering it */
    uint64_t clog_until_ns[RF_SIM_NODES_MAX][RF_SIM_NODES_MAX]; /* [from][to] */
    rf_sim_flap flaps[RF_SIM_FLAPS_MAX];
    uint32_t flaps_len;
    rf_sim_net_stats stats;
} rf_sim_net;

/* A healthy network of `nodes` nodes, all in zone 0, drawing from the
 * engine's ("network", 0) stream and hashing draws into its trace. */
void rf_sim_net_init(rf_sim_net *net, rf_sim_engine *e, uint32_t nodes,
                     const rf_sim_net_config *cfg);

void rf_sim_net_set_zone(rf_sim_net *net, uint32_t node, uint32_t zone);
rf_sim_nodeset rf_sim_net_zone_nodes(const rf_sim_net *net, uint32_t zone);
/* Nodes carry zone names ("zone1"): puts node in the named zone, giving
 * the name the next free id. RF_EBADNAME for an empty or too long name,
 * RF_EFULL beyond RF_SIM_ZONES_MAX names. */
int rf_sim_net_set_zone_name(rf_sim_net *net, uint32_t node, const char *name);
/* The id of a named zone; RF_ENOTFOUND when no node was put in it. */
int rf_sim_net_zone_id(const rf_sim_net *net, const char *name, uint32_t *zone);
rf_sim_nodeset rf_sim_net_all(const rf_sim_net *net);

/* Each cut returns its id, for rf_sim_net_heal_cut, or RF_SIM_CUT_NONE
 * (and cuts nothing) when RF_SIM_CUTS_MAX cuts are in force. */
/* Cuts every link from a node in `from` to a node in `to` (one way). */
uint32_t rf_sim_net_cut_oneway(rf_sim_net *net, rf_sim_nodeset from, rf_sim_nodeset to);
/* Cuts both ways between a and b: a partition given as explicit sets. */
uint32_t rf_sim_net_partition(rf_sim_net *net, rf_sim_nodeset a, rf_sim_nodeset b);
/* Cuts node from every other node, both ways. */
uint32_t rf_sim_net_isolate(rf_sim_net *net, uint32_t node);
/* Cuts a whole zone from the rest of the cluster, both ways. */
uint32_t rf_sim_net_cut_zone(rf_sim_net *net, uint32_t zone);
/* Ends one cut (others stay); unknown or ended ids are ignored. */
void rf_sim_net_heal_cut(rf_sim_net *net, uint32_t id);
/* Delays everything sent from -> to until until_ns (then it flows again). */
void rf_sim_net_clog(rf_sim_net *net, uint32_t from, uint32_t to, uint64_t until_ns);
/* Starts a flapping partition; RF_EINVAL for a period under 2 ns,
 * RF_EFULL when RF_SIM_FLAPS_MAX are active. */
int rf_sim_net_flap(rf_sim_net *net, rf_sim_nodeset a, rf_sim_nodeset b, uint64_t start_ns,
                    uint64_t period_ns, uint64_t until_ns);
/* Heals every cut, clog and flap. */
void rf_sim_net_heal(rf_sim_net *net);

/* Is the link from -> to down at time now (cut, or a flap's cut half)? */
bool rf_sim_net_is_cut(const rf_sim_net *net, uint32_t from, uint32_t to, uint64_t now_ns);
/* Is any fault (cut, clog, flap) active at now? */
bool rf_sim_net_faulty(const rf_sim_net *net, uint64_t now_ns);

/* Decides the fate of one message sent at now: writes 0, 1 or 2 delivery
 * times (duplicates) to at_ns and returns how many. A message on a cut
 * link is dropped here; rf_sim_net_is_cut is asked again at delivery so a
 * partition also drops what was in flight. */
uint32_t rf_sim_net_send(rf_sim_net *net, uint64_t now_ns, uint32_t from, uint32_t to,
                         uint64_t at_ns[2]);

#endif
