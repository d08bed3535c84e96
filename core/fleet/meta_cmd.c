/* meta_cmd: the fleet-meta data model's commands and queries, and its model table. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "fleet/meta_int.h"
#include "model/rf_model_text.h"

/* Semantics and formats: fleet/rf_meta.h. */

static const uint8_t META_DIGEST_KEY[16] = {'r', 'f', '-', 'f', 'l', 'e', 'e', 't',
                                            '-', 'm', 'e', 't', 'a', '-', 'v', '1'};

/* ---- commands -------------------------------------------------------------- */

typedef struct meta_out {
    uint8_t *reply;
    size_t cap;
    size_t *len;
} meta_out;

static int cmd_reject(meta_out o, int code, const char *why)
{
    return rf_model_reject(o.reply, o.cap, o.len, code, why);
}

/* Unclaimed boots of `node` (leaving the metadata) go to each group's
 * placement head among the active nodes; with none active, to the next
 * node that activates (boot node 0). */
static void reassign_boots(rf_meta *m, uint64_t node)
{
    for (size_t i = 0; i < m->n_groups; i++) {
        rf_meta_group *g = m->by_id[i];
        if (g->claimed || g->boot_node != node)
            continue;
        uint64_t head = 0;
        if (rf_meta_active_count(m) == 0 || rf_meta_place(m, g->name, 1, &head, 1) != RF_OK)
            head = 0;
        m->groups_sum -= rf_meta_group_hash(g); /* the record changes in place */
        g->boot_node = head;
        m->groups_sum += rf_meta_group_hash(g);
    }
}

static int cmd_activate(rf_meta *m, rf_meta_rd *rd, meta_out o)
{
    rf_meta_node n;
    memset(&n, 0, sizeof n);
    rf_meta_rd_str(rd, n.name, RF_PLACEMENT_NAME_MAX);
    rf_meta_rd_str(rd, n.zone, RF_PLACEMENT_NAME_MAX);
    n.id = rf_meta_rd_u64(rd);
    if (rd->bad || rd->off != rd->len || n.id == 0)
        return cmd_reject(o, RF_EINVAL, "malformed activate");
    if (rf_placement_check_name(n.name) != RF_OK || rf_placement_check_name(n.zone) != RF_OK)
        return cmd_reject(o, RF_EBADNAME, "bad node or zone name");
    if (rf_meta_node_by_name(m, n.name) != NULL)
        return cmd_reject(o, RF_ENOTINACTIVE, "not_inactive");
    if (rf_meta_node_by_id(m, n.id) != NULL)
        return cmd_reject(o, RF_EEXIST, "node id taken");
    if (m->n_nodes >= RF_META_NODES_MAX)
        return cmd_reject(o, RF_EFULL, "too many nodes");
    n.state = RF_META_NODE_ACTIVE;
    if (rf_meta_insert_node(m, &n) != RF_OK)
        return cmd_reject(o, RF_ENOMEM, "out of memory");
    m->nodes_epoch++;
    reassign_boots(m, 0); /* boots that waited for an active node */
    *o.len = 0;
    return RF_OK;
}

static int cmd_node_change(rf_meta *m, rf_meta_rd *rd, meta_out o, uint8_t op)
{
    char name[RF_PLACEMENT_NAME_MAX + 1];
    rf_meta_rd_str(rd, name, RF_PLACEMENT_NAME_MAX);
    if (rd->bad || rd->off != rd->len)
        return cmd_reject(o, RF_EINVAL, "malformed node command");
    if (rf_placement_check_name(name) != RF_OK)
        return cmd_reject(o, RF_EBADNAME, "bad node name");
    size_t at = rf_meta__node_lower(m, name);
    bool known = at < m->n_nodes && strcmp(m->nodes[at].name, name) == 0;
    if (op == RF_META_OP_DEACTIVATE) {
        if (!known || m->nodes[at].state != RF_META_NODE_ACTIVE)
            return cmd_reject(o, RF_EINACTIVE, "inactive");
        m->nodes[at].state = RF_META_NODE_DEACTIVATING;
        m->nodes_changes++;
    } else {
        if (!known)
            return cmd_reject(o, RF_ENOTFOUND, "not_found");
        /* A removed (or purged) node will never acknowledge clean-ups. */
        uint64_t id = m->nodes[at].id;
        memmove(&m->nodes[at], &m->nodes[at + 1], (m->n_nodes - at - 1) * sizeof *m->nodes);
        m->n_nodes--;
        m->nodes_changes++;
        for (size_t i = m->n_removed; i > 0; i--)
            rf_meta__ack_removed(m, i - 1, id);
        reassign_boots(m, id);
    }
    m->nodes_epoch++;
    *o.len = 0;
    return RF_OK;
}

static int cmd_claim(rf_meta *m, rf_meta_rd *rd, meta_out o)
{
    uint64_t gid = rf_meta_rd_u64(rd), nid = rf_meta_rd_u64(rd);
    if (rd->bad || rd->off != rd->len)
        return cmd_reject(o, RF_EINVAL, "malformed claim");
    size_t at = rf_meta__group_id_lower(m, gid);
    if (at == m->n_groups || m->by_id[at]->id != gid)
        return cmd_reject(o, RF_ENOTFOUND, "not_found");
    rf_meta_group *g = m->by_id[at];
    if (g->boot_node != nid)
        return cmd_reject(o, RF_ENOTBOOT, "not the boot node");
    m->groups_sum -= rf_meta_group_hash(g); /* the record changes in place */
    g->claimed = true;
    m->groups_sum += rf_meta_group_hash(g);
    *o.len = 0;
    return RF_OK;
}

static int cmd_add_group(rf_meta *m, rf_meta_rd *rd, meta_out o)
{
    rf_meta_group g;
    memset(&g, 0, sizeof g);
    rf_meta_rd_str(rd, g.name, RF_GROUP_NAME_MAX);
    g.replicas = rf_meta_rd_u32(rd);
    rf_meta_rd_str(rd, g.model, RF_MODEL_NAME_MAX);
    if (rd->bad || rd->off != rd->len)
        return cmd_reject(o, RF_EINVAL, "malformed add_group");
    if (!rf_meta_valid_group_name(g.name) || rf_meta_check_model_name(g.model) != RF_OK)
        return cmd_reject(o, RF_EBADNAME, "bad group or model name");
    if (g.replicas == 0 || g.replicas > RF_META_REPLICAS_MAX)
        return cmd_reject(o, RF_EINVAL, "replicas out of range");
    if (rf_meta_group_by_name(m, g.name) != NULL)
        return cmd_reject(o, RF_EALREADYADDED, "already_added");
    for (size_t i = 0; i < m->n_removed; i++)
        if (strcmp(m->removed[i].name, g.name) == 0)
            return cmd_reject(o, RF_ECLEANUP, "cleanup_ongoing");
    if (rf_meta_active_count(m) == 0)
        return cmd_reject(o, RF_ENOACTIVENODE, "no_active_node");
    if (m->n_groups >= RF_META_GROUPS_MAX)
        return cmd_reject(o, RF_EFULL, "too many groups");
    if (o.cap < 8)
        return RF_ETOOBIG;
    int rc = rf_meta_place(m, g.name, 1, &g.boot_node, 1);
    if (rc != RF_OK)
        return cmd_reject(o, rc, "placement failed");
    g.id = m->next_group_id;
    if (rf_meta_insert_group(m, &g) != RF_OK)
        return cmd_reject(o, RF_ENOMEM, "out of memory");
    m->next_group_id++;
    rf_model_put_le(o.reply, g.id, 8);
    *o.len = 8;
    return RF_OK;
}

static int cmd_remove_group(rf_meta *m, rf_meta_rd *rd, meta_out o)
{
    char name[RF_GROUP_NAME_MAX + 1];
    rf_meta_rd_str(rd, name, RF_GROUP_NAME_MAX);
    if (rd->bad || rd->off != rd->len)
        return cmd_reject(o, RF_EINVAL, "malformed remove_group");
    if (!rf_meta_valid_group_name(name))
        return cmd_reject(o, RF_EBADNAME, "bad group name");
    const rf_meta_group *g = rf_meta_group_by_name(m, name);
    if (g == NULL)
        return cmd_reject(o, RF_ENOTFOUND, "not_found");
    if (m->n_removed >= RF_META_REMOVED_MAX)
        return cmd_reject(o, RF_EFULL, "too many removed groups pending clean-up");
    /* Every known node may host a member (nodes array is sorted by name,
     * the pending list by id). */
    rf_meta_removed r;
    memset(&r, 0, sizeof r);
    r.id = g->id;
    memcpy(r.name, g->name, sizeof r.name);
    if (m->n_nodes > 0) {
        r.pending = malloc(m->n_nodes * sizeof *r.pending);
        if (r.pending == NULL)
            return cmd_reject(o, RF_ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_nodes; i++) {
            size_t j = r.n_pending;
            while (j > 0 && r.pending[j - 1] > m->nodes[i].id) {
                r.pending[j] = r.pending[j - 1];
                j--;
            }
            r.pending[j] = m->nodes[i].id;
            r.n_pending++;
        }
        if (rf_meta_insert_removed(m, &r) != RF_OK) {
            free(r.pending);
            return cmd_reject(o, RF_ENOMEM, "out of memory");
        }
    }
    rf_meta__remove_group(m, g);
    *o.len = 0;
    return RF_OK;
}

static int cmd_cleaned(rf_meta *m, rf_meta_rd *rd, meta_out o)
{
    uint64_t gid = rf_meta_rd_u64(rd), nid = rf_meta_rd_u64(rd);
    if (rd->bad || rd->off != rd->len)
        return cmd_reject(o, RF_EINVAL, "malformed cleaned");
    size_t at = rf_meta__removed_lower(m, gid);
    if (at == m->n_removed || m->removed[at].id != gid || !rf_meta__ack_removed(m, at, nid))
        return cmd_reject(o, RF_ENOTFOUND, "not_found");
    *o.len = 0;
    return RF_OK;
}

static int meta_command(void *state, const uint8_t *cmd, size_t cmd_len, uint8_t *reply,
                        size_t reply_cap, size_t *reply_len)
{
    rf_meta *m = state;
    rf_meta_rd rd = {.p = cmd, .len = cmd_len, .off = 0, .bad = false};
    meta_out o = {reply, reply_cap, reply_len};
    ASSERT(m != NULL);
    uint8_t op = rf_meta_rd_u8(&rd);
    switch (rd.bad ? 0 : op) {
    case RF_META_OP_ACTIVATE:
        return cmd_activate(m, &rd, o);
    case RF_META_OP_DEACTIVATE:
    case RF_META_OP_REMOVE_NODE:
        return cmd_node_change(m, &rd, o, op);
    case RF_META_OP_ADD_GROUP:
        return cmd_add_group(m, &rd, o);
    case RF_META_OP_REMOVE_GROUP:
        return cmd_remove_group(m, &rd, o);
    case RF_META_OP_CLEANED:
        return cmd_cleaned(m, &rd, o);
    case RF_META_OP_CLAIM:
        return cmd_claim(m, &rd, o);
    default:
        return cmd_reject(o, RF_EINVAL, "unknown fleet-meta command");
    }
}

static int meta_query(const void *state, const uint8_t *q, size_t q_len, uint8_t *reply,
                      size_t reply_cap, size_t *reply_len)
{
    const rf_meta *m = state;
    rf_meta_rd rd = {.p = q, .len = q_len, .off = 0, .bad = false};
    rf_meta_wr w = {.p = reply, .cap = reply_cap, .off = 0};
    uint8_t op = rf_meta_rd_u8(&rd);
    if (!rd.bad && op == RF_META_QUERY_GROUP) {
        char name[RF_GROUP_NAME_MAX + 1];
        rf_meta_rd_str(&rd, name, RF_GROUP_NAME_MAX);
        if (rd.bad || rd.off != rd.len)
            return rf_model_reject(reply, reply_cap, reply_len, RF_EINVAL, "malformed query");
        const rf_meta_group *g = rf_meta_group_by_name(m, name);
        if (g == NULL)
            return rf_model_reject(reply, reply_cap, reply_len, RF_ENOTFOUND, "not_found");
        rf_meta_wr_u64(&w, g->id);
        rf_meta_wr_u32(&w, g->replicas);
        rf_meta_wr_str(&w, g->model);
    } else if (!rd.bad && op == RF_META_QUERY_NODE) {
        uint64_t id = rf_meta_rd_u64(&rd);
        if (rd.bad || rd.off != rd.len)
            return rf_model_reject(reply, reply_cap, reply_len, RF_EINVAL, "malformed query");
        const rf_meta_node *nd = rf_meta_node_by_id(m, id);
        if (nd == NULL)
            return rf_model_reject(reply, reply_cap, reply_len, RF_ENOTFOUND, "not_found");
        rf_meta_wr_u8(&w, nd->state);
    } else if (!rd.bad && op == RF_META_QUERY_COUNTS && rd.off == rd.len) {
        rf_meta_wr_u32(&w, (uint32_t)m->n_nodes);
        rf_meta_wr_u32(&w, (uint32_t)rf_meta_active_count(m));
        rf_meta_wr_u32(&w, (uint32_t)m->n_groups);
        rf_meta_wr_u32(&w, (uint32_t)m->n_removed);
    } else {
        return rf_model_reject(reply, reply_cap, reply_len, RF_EINVAL, "unknown query");
    }
    *reply_len = w.off;
    return w.off <= reply_cap ? RF_OK : RF_ETOOBIG;
}

/* ---- the model table ---------------------------------------------------- */

static void *meta_create(void)
{
    return rf_meta_new();
}

static void meta_destroy(void *state)
{
    rf_meta_free(state);
}

static int meta_encode(const void *state, uint8_t *out, size_t cap, size_t *len)
{
    return rf_meta_encode_state(state, out, cap, len);
}

static void *meta_decode(const uint8_t *data, size_t len)
{
    return rf_meta_decode_state(data, len);
}

/* Replicas compare digests after every application, so with many groups
 * the digest cannot cost O(groups): the group records enter it as a sum
 * of their keyed hashes, kept up to date as they are inserted and removed
 * (and around the two changes made in place: a boot claimed, a boot
 * reassigned). Equal states give equal digests; a
 * difference in any record changes it but with negligible probability. */
static uint64_t meta_digest(const void *state)
{
    size_t len = 0;
    (void)rf_meta_encode_digest(state, NULL, 0, &len);
    uint8_t stack[1024];
    uint8_t *buf = len <= sizeof stack ? stack : malloc(len);
    ASSERT(buf != NULL); /* a digest has no error path; the state is bounded */
    int rc = rf_meta_encode_digest(state, buf, len, &len);
    ASSERT(rc == RF_OK);
    uint64_t h = rf_siphash24(META_DIGEST_KEY, buf, len);
    if (buf != stack)
        free(buf);
    return h;
}

const rf_model rf_model_fleet_meta = {
    .abi_version = RF_MODEL_ABI_VERSION,
    .name = "fleet-meta",
    .create = meta_create,
    .destroy = meta_destroy,
    .command = meta_command,
    .query = meta_query,
    .encode = meta_encode,
    .decode = meta_decode,
    .digest = meta_digest,
};
