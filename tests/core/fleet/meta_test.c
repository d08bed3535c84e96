/* Tests of core/fleet/meta.c and meta_codec.c: the cluster-metadata model "fleet-meta". */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "fleet/rf_meta.h"

static const rf_model *M = &rf_model_fleet_meta;

typedef struct run_out {
    int rc;
    uint8_t reply[256];
    size_t len;
} run_out;

static run_out run(rf_meta *m, const uint8_t *cmd, size_t len)
{
    run_out o;
    memset(&o, 0, sizeof o);
    o.rc = M->command(m, cmd, len, o.reply, sizeof o.reply, &o.len);
    return o;
}

static int activate(rf_meta *m, const char *name, const char *zone, uint64_t id)
{
    uint8_t c[RF_META_CMD_BYTES_MAX];
    size_t n = 0;
    ck_assert_int_eq(rf_meta_cmd_activate(c, sizeof c, &n, name, zone, id), RF_OK);
    return run(m, c, n).rc;
}

static int node_cmd(rf_meta *m, int deactivate, const char *name)
{
    uint8_t c[RF_META_CMD_BYTES_MAX];
    size_t n = 0;
    int rc = deactivate ? rf_meta_cmd_deactivate(c, sizeof c, &n, name)
                        : rf_meta_cmd_remove_node(c, sizeof c, &n, name);
    ck_assert_int_eq(rc, RF_OK);
    return run(m, c, n).rc;
}

/* Adds a group; returns the code and its id in *id. */
static int add_group(rf_meta *m, const char *name, uint32_t replicas, uint64_t *id)
{
    uint8_t c[RF_META_CMD_BYTES_MAX];
    size_t n = 0;
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, name, replicas, "int"), RF_OK);
    run_out o = run(m, c, n);
    if (id != NULL)
        *id = o.rc == RF_OK ? rf_meta_reply_group_id(o.reply, o.len) : 0;
    return o.rc;
}

static int remove_group(rf_meta *m, const char *name)
{
    uint8_t c[RF_META_CMD_BYTES_MAX];
    size_t n = 0;
    ck_assert_int_eq(rf_meta_cmd_remove_group(c, sizeof c, &n, name), RF_OK);
    return run(m, c, n).rc;
}

static int cleaned(rf_meta *m, uint64_t gid, uint64_t nid)
{
    uint8_t c[RF_META_CMD_BYTES_MAX];
    size_t n = 0;
    ck_assert_int_eq(rf_meta_cmd_cleaned(c, sizeof c, &n, gid, nid), RF_OK);
    return run(m, c, n).rc;
}

static int claim(rf_meta *m, uint64_t gid, uint64_t nid)
{
    uint8_t c[RF_META_CMD_BYTES_MAX];
    size_t n = 0;
    ck_assert_int_eq(rf_meta_cmd_claim(c, sizeof c, &n, gid, nid), RF_OK);
    return run(m, c, n).rc;
}

static uint8_t *encode(const rf_meta *m, size_t *len)
{
    size_t need = 0;
    (void)M->encode(m, NULL, 0, &need);
    uint8_t *buf = malloc(need);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(M->encode(m, buf, need, len), RF_OK);
    ck_assert_uint_eq(*len, need);
    return buf;
}

START_TEST(test_meta_activate_registers_nodes_and_refuses_twice)
{
    rf_meta *m = M->create();
    ck_assert_int_eq(activate(m, "n2", "zone2", 2), RF_OK);
    ck_assert_int_eq(activate(m, "n1", "zone1", 1), RF_OK);
    ck_assert_int_eq(activate(m, "n1", "zone1", 1), RF_ENOTINACTIVE);
    ck_assert_int_eq(activate(m, "n3", "zone1", 2), RF_EEXIST);
    ck_assert_uint_eq(rf_meta_node_count(m), 2);
    ck_assert_str_eq(rf_meta_node_at(m, 0)->name, "n1"); /* sorted by name */
    ck_assert_str_eq(rf_meta_node_at(m, 1)->zone, "zone2");
    ck_assert_uint_eq(rf_meta_node_by_id(m, 2)->state, RF_META_NODE_ACTIVE);
    ck_assert_uint_eq(rf_meta_active_count(m), 2);
    ck_assert_uint_eq(rf_meta_nodes_epoch(m), 2);
    M->destroy(m);
}
END_TEST

START_TEST(test_meta_deactivate_and_remove_node_follow_raftfleet_errors)
{
    rf_meta *m = M->create();
    ck_assert_int_eq(node_cmd(m, 1, "n1"), RF_EINACTIVE);
    ck_assert_int_eq(activate(m, "n1", "z", 1), RF_OK);
    ck_assert_int_eq(node_cmd(m, 1, "n1"), RF_OK);
    ck_assert_uint_eq(rf_meta_node_by_name(m, "n1")->state, RF_META_NODE_DEACTIVATING);
    ck_assert_uint_eq(rf_meta_active_count(m), 0);
    ck_assert_int_eq(node_cmd(m, 1, "n1"), RF_EINACTIVE);
    ck_assert_int_eq(activate(m, "n1", "z", 1), RF_ENOTINACTIVE); /* still draining */
    ck_assert_int_eq(node_cmd(m, 0, "n1"), RF_OK);
    ck_assert_int_eq(node_cmd(m, 0, "n1"), RF_ENOTFOUND);
    ck_assert_ptr_null(rf_meta_node_by_name(m, "n1"));
    ck_assert_int_eq(activate(m, "n1", "z", 1), RF_OK); /* gone: may come back */
    M->destroy(m);
}
END_TEST

START_TEST(test_meta_add_group_assigns_increasing_ids_and_reports_errors)
{
    rf_meta *m = M->create();
    uint64_t id1 = 0, id2 = 0;
    ck_assert_int_eq(add_group(m, "consensus1", 3, NULL), RF_ENOACTIVENODE);
    ck_assert_int_eq(activate(m, "n1", "zone1", 1), RF_OK);
    ck_assert_int_eq(add_group(m, "consensus1", 3, &id1), RF_OK);
    ck_assert_int_eq(add_group(m, "consensus2", 3, &id2), RF_OK);
    ck_assert_uint_eq(id1, RF_META_FIRST_GROUP_ID);
    ck_assert_uint_eq(id2, id1 + 1);
    ck_assert_int_eq(add_group(m, "consensus1", 5, NULL), RF_EALREADYADDED);
    const rf_meta_group *g = rf_meta_group_by_name(m, "consensus1");
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->replicas, 3);
    ck_assert_str_eq(g->model, "int");
    ck_assert_ptr_eq(rf_meta_group_by_id(m, id2), rf_meta_group_by_name(m, "consensus2"));
    ck_assert_uint_eq(rf_meta_group_count(m), 2);
    /* Deactivating the only node leaves no active node. */
    ck_assert_int_eq(node_cmd(m, 1, "n1"), RF_OK);
    ck_assert_int_eq(add_group(m, "consensus3", 3, NULL), RF_ENOACTIVENODE);
    M->destroy(m);
}
END_TEST

enum { NAMED = 200 };

/* Group i's name: short ones, and long ones that share their first 40 bytes. */
static void group_name(char *out, size_t cap, int i)
{
    if (i % 2 == 0)
        snprintf(out, cap, "g%d", i);
    else
        snprintf(out, cap, "a-long-shared-prefix-for-many-group-names-%d", i);
}

/* Each group present is found by its name, the removed and never-added
 * names are not, before and after a round trip through the encoding. */
static void check_names(const rf_meta *m, const bool *present)
{
    char name[64];
    for (int i = 0; i < NAMED + 20; i++) {
        group_name(name, sizeof name, i);
        const rf_meta_group *g = rf_meta_group_by_name(m, name);
        if (i < NAMED && present[i]) {
            ck_assert_ptr_nonnull(g);
            ck_assert_str_eq(g->name, name);
            ck_assert_ptr_eq(rf_meta_group_by_id(m, g->id), g);
        } else {
            ck_assert_ptr_null(g);
        }
    }
}

START_TEST(test_meta_group_by_name_finds_each_group_across_adds_and_removals)
{
    rf_meta *m = M->create();
    static bool present[NAMED];
    char name[64];
    ck_assert_int_eq(activate(m, "n1", "z1", 1), RF_OK);
    for (int i = 0; i < NAMED; i++) {
        group_name(name, sizeof name, i);
        ck_assert_int_eq(add_group(m, name, 1, NULL), RF_OK);
        present[i] = true;
    }
    check_names(m, present);
    for (int i = 0; i < NAMED; i += 3) {
        group_name(name, sizeof name, i);
        ck_assert_int_eq(remove_group(m, name), RF_OK);
        present[i] = false;
    }
    ck_assert_uint_eq(rf_meta_group_count(m), NAMED - (NAMED + 2) / 3);
    check_names(m, present);
    size_t len = 0;
    uint8_t *enc = encode(m, &len);
    rf_meta *copy = M->decode(enc, len);
    ck_assert_ptr_nonnull(copy);
    check_names(copy, present);
    free(enc);
    M->destroy(copy);
    M->destroy(m);
}
END_TEST

START_TEST(test_meta_remove_group_waits_for_every_node_to_clean_up)
{
    rf_meta *m = M->create();
    uint64_t id = 0, id2 = 0;
    ck_assert_int_eq(activate(m, "n1", "z1", 10), RF_OK);
    ck_assert_int_eq(activate(m, "n2", "z2", 20), RF_OK);
    ck_assert_int_eq(activate(m, "n3", "z1", 30), RF_OK);
    ck_assert_int_eq(remove_group(m, "g"), RF_ENOTFOUND);
    ck_assert_int_eq(add_group(m, "g", 3, &id), RF_OK);
    ck_assert_int_eq(remove_group(m, "g"), RF_OK);
    ck_assert_int_eq(remove_group(m, "g"), RF_ENOTFOUND);
    ck_assert_ptr_null(rf_meta_group_by_name(m, "g"));
    const rf_meta_removed *r = rf_meta_removed_by_id(m, id);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n_pending, 3);
    ck_assert(rf_meta_removed_pending(r, 20));
    /* The name is blocked until every node has cleaned up. */
    ck_assert_int_eq(add_group(m, "g", 3, NULL), RF_ECLEANUP);
    ck_assert_int_eq(cleaned(m, id, 20), RF_OK);
    ck_assert_int_eq(cleaned(m, id, 20), RF_ENOTFOUND); /* acked twice: harmless */
    ck_assert_int_eq(cleaned(m, id, 10), RF_OK);
    ck_assert_int_eq(add_group(m, "g", 3, NULL), RF_ECLEANUP);
    /* A node removed (or purged) is no longer waited for. */
    ck_assert_int_eq(node_cmd(m, 0, "n3"), RF_OK);
    ck_assert_ptr_null(rf_meta_removed_by_id(m, id));
    ck_assert_int_eq(add_group(m, "g", 3, &id2), RF_OK);
    ck_assert_uint_gt(id2, id); /* ids are never reused */
    M->destroy(m);
}
END_TEST

START_TEST(test_meta_rejects_bad_names_without_crashing)
{
    uint8_t c[RF_META_CMD_BYTES_MAX];
    size_t n = 0;
    char long_name[300];
    memset(long_name, 'a', sizeof long_name);
    long_name[256] = '\0'; /* 256 bytes: one too many */
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, long_name, 3, "int"), RF_EBADNAME);
    long_name[255] = '\0';
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, long_name, 3, "int"), RF_OK);
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, "", 3, "int"), RF_EBADNAME);
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, "g", 3, "Int"), RF_EBADNAME);
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, "g", 0, "int"), RF_EINVAL);
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, "g", RF_META_REPLICAS_MAX + 1, "int"),
                     RF_EINVAL);
    ck_assert_int_eq(rf_meta_cmd_activate(c, sizeof c, &n, "bad name", "z", 1), RF_EBADNAME);
    ck_assert_int_eq(rf_meta_cmd_activate(c, sizeof c, &n, "n", "z/1", 1), RF_EBADNAME);
    ck_assert_int_eq(rf_meta_cmd_activate(c, sizeof c, &n, "n", "z", 0), RF_EINVAL);
    ck_assert_int_eq(rf_meta_cmd_deactivate(c, sizeof c, &n, NULL), RF_EBADNAME);
    ck_assert_int_eq(rf_meta_cmd_add_group(c, 4, &n, "g", 3, "int"), RF_ETOOBIG);
    /* Group names may hold spaces and any byte but NUL. */
    ck_assert_int_eq(rf_meta_cmd_add_group(c, sizeof c, &n, "a group \xff", 1, "kv"), RF_OK);

    /* A hand-made command with a bad zone name reaches the model: refused. */
    rf_meta *m = M->create();
    static const uint8_t bad_zone[] = {RF_META_OP_ACTIVATE, 1, 0, 'n', 3, 0, 'z', ' ', 'z',
                                       1, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(run(m, bad_zone, sizeof bad_zone).rc, RF_EBADNAME);
    run_out o = run(m, (const uint8_t *)"\x09", 1);
    ck_assert_int_eq(o.rc, RF_EINVAL);
    ck_assert_int_eq(memcmp(o.reply, "error: ", 7), 0);
    ck_assert_uint_eq(rf_meta_node_count(m), 0);
    M->destroy(m);
}
END_TEST

/* Builds a state touching every field. */
static rf_meta *sample_state(void)
{
    rf_meta *m = M->create();
    uint64_t id = 0;
    ck_assert_int_eq(activate(m, "n1", "zone1", 1), RF_OK);
    ck_assert_int_eq(activate(m, "n2", "zone2", 2), RF_OK);
    ck_assert_int_eq(activate(m, "n3", "zone1", 3), RF_OK);
    ck_assert_int_eq(node_cmd(m, 1, "n3"), RF_OK);
    ck_assert_int_eq(add_group(m, "consensus1", 3, NULL), RF_OK);
    ck_assert_int_eq(add_group(m, "b group", 1, NULL), RF_OK);
    ck_assert_int_eq(add_group(m, "gone", 3, &id), RF_OK);
    ck_assert_int_eq(remove_group(m, "gone"), RF_OK);
    ck_assert_int_eq(cleaned(m, id, 2), RF_OK);
    return m;
}

START_TEST(test_meta_encoding_round_trips_and_digest_tracks_state)
{
    rf_meta *m = sample_state();
    size_t len = 0, len2 = 0;
    uint8_t *enc = encode(m, &len);
    ck_assert_uint_eq(enc[0], 0x02);
    rf_meta *copy = M->decode(enc, len);
    ck_assert_ptr_nonnull(copy);
    uint8_t *enc2 = encode(copy, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_int_eq(memcmp(enc, enc2, len), 0);
    ck_assert_uint_eq(M->digest(m), M->digest(copy));
    ck_assert_uint_eq(rf_meta_removed_count(copy), 1);
    ck_assert_uint_eq(rf_meta_removed_at(copy, 0)->n_pending, 2);
    ck_assert_ptr_nonnull(rf_meta_group_by_name(copy, "b group"));
    ck_assert_uint_eq(rf_meta_next_group_id(copy), rf_meta_next_group_id(m));
    /* Any change moves the digest. */
    uint64_t before = M->digest(copy);
    ck_assert_int_eq(add_group(copy, "consensus2", 3, NULL), RF_OK);
    ck_assert_uint_ne(M->digest(copy), before);
    /* The same commands in the same order give the same bytes. */
    rf_meta *again = sample_state();
    ck_assert_uint_eq(M->digest(again), M->digest(m));
    free(enc);
    free(enc2);
    M->destroy(m);
    M->destroy(copy);
    M->destroy(again);
}
END_TEST

/* The digest sums the groups' record hashes (it must not cost O(groups)):
 * a record's content still counts, and a removal takes its part back out. */
START_TEST(test_meta_digest_covers_each_group_record_and_follows_removals)
{
    rf_meta *a = M->create(), *b = M->create();
    ck_assert_int_eq(activate(a, "n1", "zone1", 1), RF_OK);
    ck_assert_int_eq(activate(b, "n1", "zone1", 1), RF_OK);
    ck_assert_int_eq(add_group(a, "g1", 3, NULL), RF_OK);
    ck_assert_int_eq(add_group(b, "g1", 1, NULL), RF_OK); /* only replicas differ */
    ck_assert_uint_ne(M->digest(a), M->digest(b));
    /* After removals the kept sum equals the one a decode rebuilds from
     * the records alone. */
    uint64_t id = 0;
    ck_assert_int_eq(add_group(a, "g2", 3, &id), RF_OK);
    ck_assert_int_eq(add_group(a, "g3", 2, NULL), RF_OK);
    ck_assert_int_eq(remove_group(a, "g2"), RF_OK);
    ck_assert_int_eq(cleaned(a, id, 1), RF_OK);
    size_t len = 0;
    uint8_t *enc = encode(a, &len);
    rf_meta *c = M->decode(enc, len);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(M->digest(a), M->digest(c));
    free(enc);
    M->destroy(a);
    M->destroy(b);
    M->destroy(c);
}
END_TEST

START_TEST(test_meta_decode_refuses_truncated_and_mutated_encodings)
{
    rf_meta *m = sample_state();
    size_t len = 0;
    uint8_t *enc = encode(m, &len);
    for (size_t cut = 0; cut < len; cut++)
        ck_assert_ptr_null(M->decode(enc, cut));
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 7, 1);
    uint8_t *buf = malloc(len);
    for (int i = 0; i < 3000; i++) {
        memcpy(buf, enc, len);
        size_t at = rf_pcg32_bounded(&rng, (uint32_t)len);
        buf[at] ^= (uint8_t)(1u << rf_pcg32_bounded(&rng, 8));
        rf_meta *d = M->decode(buf, len);
        if (d != NULL) {
            /* Whatever was accepted re-encodes to exactly the bytes given:
             * the format has one encoding per state. */
            size_t l2 = 0;
            uint8_t *e2 = encode(d, &l2);
            ck_assert_uint_eq(l2, len);
            ck_assert_int_eq(memcmp(e2, buf, len), 0);
            free(e2);
            M->destroy(d);
        }
    }
    free(buf);
    free(enc);
    M->destroy(m);
}
END_TEST

START_TEST(test_meta_query_finds_groups_and_counts)
{
    rf_meta *m = sample_state();
    uint8_t q[64], r[64];
    size_t rl = 0;
    q[0] = 1;
    q[1] = 10;
    q[2] = 0;
    memcpy(q + 3, "consensus1", 10);
    ck_assert_int_eq(M->query(m, q, 13, r, sizeof r, &rl), RF_OK);
    ck_assert_uint_eq(rl, 8 + 4 + 2 + 3);
    ck_assert_uint_eq(r[0], RF_META_FIRST_GROUP_ID);
    ck_assert_uint_eq(r[8], 3);
    q[3] = 'X';
    ck_assert_int_eq(M->query(m, q, 13, r, sizeof r, &rl), RF_ENOTFOUND);
    q[0] = 2;
    ck_assert_int_eq(M->query(m, q, 1, r, sizeof r, &rl), RF_OK);
    ck_assert_uint_eq(rl, 16);
    ck_assert_uint_eq(r[0], 3); /* nodes */
    ck_assert_uint_eq(r[4], 2); /* active */
    ck_assert_uint_eq(r[8], 2); /* groups */
    ck_assert_uint_eq(r[12], 1); /* removed */
    M->destroy(m);
}
END_TEST

START_TEST(test_meta_boot_node_is_the_placement_head_of_active_nodes)
{
    rf_meta *m = M->create();
    uint64_t ids[5];
    ck_assert_int_eq(rf_meta_place(m, "consensus1", 3, ids, 5), RF_ENOACTIVENODE);
    ck_assert_int_eq(activate(m, "n1", "zone1", 1), RF_OK);
    ck_assert_int_eq(activate(m, "n2", "zone2", 2), RF_OK);
    ck_assert_int_eq(activate(m, "n3", "zone1", 3), RF_OK);
    ck_assert_int_eq(activate(m, "n4", "zone2", 4), RF_OK);
    for (int i = 1; i <= 5; i++) {
        char name[16] = "consensus0";
        name[9] = (char)('0' + i);
        ck_assert_int_eq(add_group(m, name, 3, NULL), RF_OK);
        ck_assert_int_eq(rf_meta_place(m, name, 3, ids, 5), RF_OK);
        ck_assert_uint_eq(rf_meta_group_by_name(m, name)->boot_node, ids[0]);
        /* Three distinct members over two zones, then zeros. */
        ck_assert(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
        ck_assert_uint_ne(ids[2], 0);
        ck_assert_uint_eq(ids[3], 0);
        uint64_t z0 = rf_meta_node_by_id(m, ids[0])->zone[4];
        ck_assert_uint_ne(z0, (uint64_t)rf_meta_node_by_id(m, ids[1])->zone[4]);
    }
    /* Deactivated nodes are out of every placement. */
    ck_assert_int_eq(node_cmd(m, 1, "n1"), RF_OK);
    ck_assert_int_eq(node_cmd(m, 1, "n3"), RF_OK);
    ck_assert_int_eq(rf_meta_place(m, "consensus1", 3, ids, 5), RF_OK);
    ck_assert(ids[0] == 2 || ids[0] == 4);
    ck_assert(ids[1] == 2 || ids[1] == 4);
    ck_assert_uint_eq(ids[2], 0);
    M->destroy(m);
}
END_TEST


/* Only the boot node claims; an unclaimed boot follows the placement when
 * its node leaves, a claimed one never moves; the flag survives encoding. */
START_TEST(test_meta_boot_is_claimed_once_and_moves_only_unclaimed)
{
    rf_meta *m = M->create();
    ck_assert_int_eq(activate(m, "n1", "zone1", 1), RF_OK);
    ck_assert_int_eq(activate(m, "n2", "zone2", 2), RF_OK);
    ck_assert_int_eq(activate(m, "n3", "zone3", 3), RF_OK);
    uint64_t a = 0, b = 0;
    ck_assert_int_eq(add_group(m, "alpha", 3, &a), RF_OK);
    ck_assert_int_eq(add_group(m, "beta", 3, &b), RF_OK);
    const rf_meta_group *ga = rf_meta_group_by_id(m, a);
    uint64_t boot_a = ga->boot_node;
    ck_assert(!ga->claimed);
    uint64_t other = boot_a == 1 ? 2 : 1;
    ck_assert_int_eq(claim(m, a, other), RF_ENOTBOOT);
    ck_assert_int_eq(claim(m, 99, boot_a), RF_ENOTFOUND);
    ck_assert_int_eq(claim(m, a, boot_a), RF_OK);
    ck_assert_int_eq(claim(m, a, boot_a), RF_OK); /* a retry of the same claim */
    ck_assert(rf_meta_group_by_id(m, a)->claimed);
    /* The encoding keeps the flag. */
    size_t len = 0;
    uint8_t *buf = encode(m, &len);
    rf_meta *copy = M->decode(buf, len);
    ck_assert_ptr_nonnull(copy);
    ck_assert(rf_meta_group_by_id(copy, a)->claimed);
    ck_assert(!rf_meta_group_by_id(copy, b)->claimed);
    ck_assert_uint_eq(M->digest(copy), M->digest(m));
    M->destroy(copy);
    free(buf);
    /* The unclaimed boot node of beta leaves: beta's boot moves to its
     * placement head among the others; alpha's claimed boot stays. */
    uint64_t boot_b = rf_meta_group_by_id(m, b)->boot_node;
    char name[RF_PLACEMENT_NAME_MAX + 1];
    snprintf(name, sizeof name, "n%llu", (unsigned long long)boot_b);
    ck_assert_int_eq(node_cmd(m, 0, name), RF_OK);
    uint64_t head = 0;
    ck_assert_int_eq(rf_meta_place(m, "beta", 1, &head, 1), RF_OK);
    ck_assert_uint_ne(head, boot_b);
    ck_assert_uint_eq(rf_meta_group_by_id(m, b)->boot_node, head);
    ck_assert_int_eq(claim(m, b, boot_b), RF_ENOTBOOT);
    /* The digest kept across the in-place change is the one a decode rebuilds. */
    buf = encode(m, &len);
    copy = M->decode(buf, len);
    ck_assert_ptr_nonnull(copy);
    ck_assert_uint_eq(M->digest(copy), M->digest(m));
    M->destroy(copy);
    free(buf);
    if (boot_a != boot_b) {
        snprintf(name, sizeof name, "n%llu", (unsigned long long)boot_a);
        ck_assert_int_eq(node_cmd(m, 0, name), RF_OK);
    }
    ck_assert_uint_eq(rf_meta_group_by_id(m, a)->boot_node, boot_a);
    /* With no active node left the boot waits for the next one. */
    for (size_t i = rf_meta_node_count(m); i > 0; i--) {
        snprintf(name, sizeof name, "%s", rf_meta_node_at(m, i - 1)->name);
        ck_assert_int_eq(node_cmd(m, 0, name), RF_OK);
    }
    ck_assert_uint_eq(rf_meta_group_by_id(m, b)->boot_node, 0);
    ck_assert_int_eq(activate(m, "n9", "zone1", 9), RF_OK);
    ck_assert_uint_eq(rf_meta_group_by_id(m, b)->boot_node, 9);
    M->destroy(m);
}
END_TEST

Suite *fleet_meta_suite(void)
{
    Suite *s = suite_create("fleet_meta");
    TCase *tc = tcase_create("meta");
    tcase_add_test(tc, test_meta_activate_registers_nodes_and_refuses_twice);
    tcase_add_test(tc, test_meta_deactivate_and_remove_node_follow_raftfleet_errors);
    tcase_add_test(tc, test_meta_add_group_assigns_increasing_ids_and_reports_errors);
    tcase_add_test(tc, test_meta_group_by_name_finds_each_group_across_adds_and_removals);
    tcase_add_test(tc, test_meta_remove_group_waits_for_every_node_to_clean_up);
    tcase_add_test(tc, test_meta_rejects_bad_names_without_crashing);
    tcase_add_test(tc, test_meta_encoding_round_trips_and_digest_tracks_state);
    tcase_add_test(tc, test_meta_digest_covers_each_group_record_and_follows_removals);
    tcase_add_test(tc, test_meta_decode_refuses_truncated_and_mutated_encodings);
    tcase_add_test(tc, test_meta_query_finds_groups_and_counts);
    tcase_add_test(tc, test_meta_boot_is_claimed_once_and_moves_only_unclaimed);
    tcase_add_test(tc, test_meta_boot_node_is_the_placement_head_of_active_nodes);
    suite_add_tcase(s, tc);
    return s;
}
