/* meta_int: the fleet-meta state layout and the helpers meta.c and meta_codec.c share. */
#ifndef RF_META_INT_H
#define RF_META_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/rf_meta.h"

#define RF_META_FORMAT_V2 0x02 /* 2: groups carry the claimed flag */

struct rf_meta {
    uint64_t next_group_id;
    uint64_t nodes_epoch;
    rf_meta_node *nodes; /* sorted by name */
    size_t n_nodes, cap_nodes;
    rf_meta_group **by_id;   /* one allocation per group, sorted by id */
    rf_meta_group **by_name; /* the same pointers, sorted by (name key, name) */
    uint64_t *name_keys;     /* by_name's name keys (meta.c), 8 to a cache line: a
                              * lookup by name reads one group, not one per probe */
    size_t n_groups, cap_groups;
    uint64_t groups_sum; /* sum of rf_meta_group_hash over the groups (the digest) */
    rf_meta_removed *removed; /* sorted by id */
    size_t n_removed, cap_removed;
    /* A memo of rf_meta_place's placement over the active nodes, valid
     * while nodes_changes is place_changes. Not part of the state: never
     * encoded or hashed. */
    uint64_t nodes_changes; /* every change to nodes[] moves it */
    struct rf_placement *place;
    uint64_t *place_ids; /* node ids by placement index */
    uint64_t place_changes;
};

/* A bounds-checked little-endian reader: any overrun sets bad. */
typedef struct rf_meta_rd {
    const uint8_t *p;
    size_t len, off;
    bool bad;
} rf_meta_rd;

uint8_t rf_meta_rd_u8(rf_meta_rd *r);
uint32_t rf_meta_rd_u32(rf_meta_rd *r);
uint64_t rf_meta_rd_u64(rf_meta_rd *r);
/* A string of 1..max bytes without NUL, copied NUL-terminated into out
 * (max + 1 bytes). */
void rf_meta_rd_str(rf_meta_rd *r, char *out, size_t max);

/* A writer that counts what it would write past cap (so a first pass with
 * cap 0 sizes the buffer). */
typedef struct rf_meta_wr {
    uint8_t *p;
    size_t cap, off;
} rf_meta_wr;

void rf_meta_wr_u8(rf_meta_wr *w, uint8_t v);
void rf_meta_wr_u32(rf_meta_wr *w, uint32_t v);
void rf_meta_wr_u64(rf_meta_wr *w, uint64_t v);
void rf_meta_wr_str(rf_meta_wr *w, const char *s);

/* State helpers (meta.c). */
rf_meta *rf_meta_new(void);
void rf_meta_free(rf_meta *m);
/* Inserts at their sorted places; RF_ENOMEM leaves m unchanged. The group
 * is copied; the removed entry's pending array is taken over on success. */
int rf_meta_insert_node(rf_meta *m, const rf_meta_node *n);
int rf_meta_insert_group(rf_meta *m, const rf_meta_group *g);
int rf_meta_insert_removed(rf_meta *m, const rf_meta_removed *r);

/* Codec (meta_codec.c). */
int rf_meta_encode_state(const rf_meta *m, uint8_t *out, size_t cap, size_t *len);
/* The state's encoding with the group list replaced by its count and
 * groups_sum: what the digest hashes, O(nodes + removed groups). */
int rf_meta_encode_digest(const rf_meta *m, uint8_t *out, size_t cap, size_t *len);
/* A keyed hash of one group's record (its encoding). */
uint64_t rf_meta_group_hash(const rf_meta_group *g);
rf_meta *rf_meta_decode_state(const uint8_t *data, size_t len);
bool rf_meta_valid_group_name(const char *name);

/* meta.c, for meta_cmd.c: positions in the sorted tables (lower bounds),
 * dropping a group, acknowledging a removed group's clean-up (true when the
 * node was pending; the entry goes when nobody is), and the placement over
 * the active nodes, built once per change of the nodes (NULL and *rc). */
size_t rf_meta__node_lower(const rf_meta *m, const char *name);
size_t rf_meta__group_name_lower(const rf_meta *m, const char *name);
size_t rf_meta__group_id_lower(const rf_meta *m, uint64_t id);
size_t rf_meta__removed_lower(const rf_meta *m, uint64_t id);
void rf_meta__remove_group(rf_meta *m, const rf_meta_group *g);
bool rf_meta__ack_removed(rf_meta *m, size_t at, uint64_t node_id);
rf_placement *rf_meta__placement(rf_meta *m, int *rc);

#endif
