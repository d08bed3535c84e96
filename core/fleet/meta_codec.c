/* meta_codec: fleet-meta's byte formats: commands, the state encoding and name checks. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "fleet/meta_int.h"
#include "model/rf_model_text.h"

/* ---- reader and writer --------------------------------------------------- */

static const uint8_t *rd_take(rf_meta_rd *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

uint8_t rf_meta_rd_u8(rf_meta_rd *r)
{
    const uint8_t *p = rd_take(r, 1);
    return p == NULL ? 0 : p[0];
}

uint32_t rf_meta_rd_u32(rf_meta_rd *r)
{
    const uint8_t *p = rd_take(r, 4);
    return p == NULL ? 0 : (uint32_t)rf_model_get_le(p, 4);
}

uint64_t rf_meta_rd_u64(rf_meta_rd *r)
{
    const uint8_t *p = rd_take(r, 8);
    return p == NULL ? 0 : rf_model_get_le(p, 8);
}

void rf_meta_rd_str(rf_meta_rd *r, char *out, size_t max)
{
    const uint8_t *lp = rd_take(r, 2);
    size_t n = lp == NULL ? 0 : (size_t)rf_model_get_le(lp, 2);
    out[0] = '\0';
    if (r->bad)
        return;
    if (n == 0 || n > max) {
        r->bad = true;
        return;
    }
    const uint8_t *p = rd_take(r, n);
    if (p == NULL || memchr(p, 0, n) != NULL) {
        r->bad = true;
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

static void wr_bytes(rf_meta_wr *w, const void *src, size_t n)
{
    if (w->off <= w->cap && w->cap - w->off >= n)
        memcpy(w->p + w->off, src, n);
    w->off += n;
}

void rf_meta_wr_u8(rf_meta_wr *w, uint8_t v)
{
    wr_bytes(w, &v, 1);
}

void rf_meta_wr_u32(rf_meta_wr *w, uint32_t v)
{
    uint8_t b[4];
    rf_model_put_le(b, v, 4);
    wr_bytes(w, b, 4);
}

void rf_meta_wr_u64(rf_meta_wr *w, uint64_t v)
{
    uint8_t b[8];
    rf_model_put_le(b, v, 8);
    wr_bytes(w, b, 8);
}

void rf_meta_wr_str(rf_meta_wr *w, const char *s)
{
    size_t n = strlen(s);
    uint8_t b[2];
    ASSERT(n <= 0xffff);
    rf_model_put_le(b, n, 2);
    wr_bytes(w, b, 2);
    wr_bytes(w, s, n);
}

/* ---- names --------------------------------------------------------------- */

bool rf_meta_valid_group_name(const char *name)
{
    return name != NULL && rf_placement_check_group(name) == RF_OK;
}

int rf_meta_check_model_name(const char *model)
{
    if (model == NULL)
        return RF_EBADNAME;
    size_t n = strnlen(model, RF_MODEL_NAME_MAX + 1);
    if (n == 0 || n > RF_MODEL_NAME_MAX)
        return RF_EBADNAME;
    for (size_t i = 0; i < n; i++) {
        char c = model[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return RF_EBADNAME;
    }
    return RF_OK;
}

/* ---- command builders ---------------------------------------------------- */

static int wr_done(const rf_meta_wr *w, size_t *len)
{
    *len = w->off;
    return w->off <= w->cap ? RF_OK : RF_ETOOBIG;
}

int rf_meta_cmd_activate(uint8_t *out, size_t cap, size_t *len, const char *name,
                         const char *zone, uint64_t id)
{
    if (name == NULL || zone == NULL || rf_placement_check_name(name) != RF_OK ||
        rf_placement_check_name(zone) != RF_OK)
        return RF_EBADNAME;
    if (id == 0)
        return RF_EINVAL;
    rf_meta_wr w = {out, cap, 0};
    rf_meta_wr_u8(&w, RF_META_OP_ACTIVATE);
    rf_meta_wr_str(&w, name);
    rf_meta_wr_str(&w, zone);
    rf_meta_wr_u64(&w, id);
    return wr_done(&w, len);
}

static int cmd_one_name(uint8_t *out, size_t cap, size_t *len, uint8_t op, const char *name)
{
    rf_meta_wr w = {out, cap, 0};
    rf_meta_wr_u8(&w, op);
    rf_meta_wr_str(&w, name);
    return wr_done(&w, len);
}

int rf_meta_cmd_deactivate(uint8_t *out, size_t cap, size_t *len, const char *name)
{
    if (name == NULL || rf_placement_check_name(name) != RF_OK)
        return RF_EBADNAME;
    return cmd_one_name(out, cap, len, RF_META_OP_DEACTIVATE, name);
}

int rf_meta_cmd_remove_node(uint8_t *out, size_t cap, size_t *len, const char *name)
{
    if (name == NULL || rf_placement_check_name(name) != RF_OK)
        return RF_EBADNAME;
    return cmd_one_name(out, cap, len, RF_META_OP_REMOVE_NODE, name);
}

int rf_meta_cmd_add_group(uint8_t *out, size_t cap, size_t *len, const char *name,
                          uint32_t replicas, const char *model)
{
    if (!rf_meta_valid_group_name(name) || rf_meta_check_model_name(model) != RF_OK)
        return RF_EBADNAME;
    if (replicas == 0 || replicas > RF_META_REPLICAS_MAX)
        return RF_EINVAL;
    rf_meta_wr w = {out, cap, 0};
    rf_meta_wr_u8(&w, RF_META_OP_ADD_GROUP);
    rf_meta_wr_str(&w, name);
    rf_meta_wr_u32(&w, replicas);
    rf_meta_wr_str(&w, model);
    return wr_done(&w, len);
}

int rf_meta_cmd_remove_group(uint8_t *out, size_t cap, size_t *len, const char *name)
{
    if (!rf_meta_valid_group_name(name))
        return RF_EBADNAME;
    return cmd_one_name(out, cap, len, RF_META_OP_REMOVE_GROUP, name);
}

int rf_meta_cmd_cleaned(uint8_t *out, size_t cap, size_t *len, uint64_t group_id,
                        uint64_t node_id)
{
    rf_meta_wr w = {out, cap, 0};
    rf_meta_wr_u8(&w, RF_META_OP_CLEANED);
    rf_meta_wr_u64(&w, group_id);
    rf_meta_wr_u64(&w, node_id);
    return wr_done(&w, len);
}

int rf_meta_cmd_claim(uint8_t *out, size_t cap, size_t *len, uint64_t group_id, uint64_t node_id)
{
    rf_meta_wr w = {out, cap, 0};
    rf_meta_wr_u8(&w, RF_META_OP_CLAIM);
    rf_meta_wr_u64(&w, group_id);
    rf_meta_wr_u64(&w, node_id);
    return wr_done(&w, len);
}

uint8_t rf_meta_cmd_op(const uint8_t *cmd, size_t len)
{
    if (cmd == NULL || len == 0 || cmd[0] < RF_META_OP_ACTIVATE || cmd[0] > RF_META_OP_CLAIM)
        return 0;
    return cmd[0];
}

uint64_t rf_meta_reply_group_id(const uint8_t *reply, size_t len)
{
    return reply != NULL && len == 8 ? rf_model_get_le(reply, 8) : 0;
}

/* ---- the state encoding --------------------------------------------------- */

int rf_meta_encode_state(const rf_meta *m, uint8_t *out, size_t cap, size_t *len)
{
    rf_meta_wr w = {out, cap, 0};
    rf_meta_wr_u8(&w, RF_META_FORMAT_V2);
    rf_meta_wr_u64(&w, m->next_group_id);
    rf_meta_wr_u64(&w, m->nodes_epoch);
    rf_meta_wr_u32(&w, (uint32_t)m->n_nodes);
    for (size_t i = 0; i < m->n_nodes; i++) {
        rf_meta_wr_str(&w, m->nodes[i].name);
        rf_meta_wr_str(&w, m->nodes[i].zone);
        rf_meta_wr_u64(&w, m->nodes[i].id);
        rf_meta_wr_u8(&w, m->nodes[i].state);
    }
    rf_meta_wr_u32(&w, (uint32_t)m->n_groups);
    for (size_t i = 0; i < m->n_groups; i++) {
        const rf_meta_group *g = m->by_id[i];
        rf_meta_wr_u64(&w, g->id);
        rf_meta_wr_u64(&w, g->boot_node);
        rf_meta_wr_u8(&w, g->claimed);
        rf_meta_wr_u32(&w, g->replicas);
        rf_meta_wr_str(&w, g->model);
        rf_meta_wr_str(&w, g->name);
    }
    rf_meta_wr_u32(&w, (uint32_t)m->n_removed);
    for (size_t i = 0; i < m->n_removed; i++) {
        const rf_meta_removed *r = &m->removed[i];
        rf_meta_wr_u64(&w, r->id);
        rf_meta_wr_str(&w, r->name);
        rf_meta_wr_u32(&w, r->n_pending);
        for (uint32_t j = 0; j < r->n_pending; j++)
            rf_meta_wr_u64(&w, r->pending[j]);
    }
    return wr_done(&w, len);
}

static const uint8_t GROUP_HASH_KEY[16] = {'r', 'f', '-', 'm', 'e', 't', 'a', '-',
                                           'g', 'r', 'o', 'u', 'p', '-', 'v', '1'};

uint64_t rf_meta_group_hash(const rf_meta_group *g)
{
    uint8_t buf[8 + 8 + 4 + 2 + RF_MODEL_NAME_MAX + 2 + RF_GROUP_NAME_MAX + 1];
    rf_meta_wr w = {buf, sizeof buf, 0};
    rf_meta_wr_u64(&w, g->id);
    rf_meta_wr_u64(&w, g->boot_node);
    rf_meta_wr_u32(&w, g->replicas);
    rf_meta_wr_str(&w, g->model);
    rf_meta_wr_str(&w, g->name);
    rf_meta_wr_u8(&w, g->claimed);
    ASSERT(w.off <= sizeof buf);
    return rf_siphash24(GROUP_HASH_KEY, buf, w.off);
}

int rf_meta_encode_digest(const rf_meta *m, uint8_t *out, size_t cap, size_t *len)
{
    rf_meta_wr w = {out, cap, 0};
    rf_meta_wr_u8(&w, RF_META_FORMAT_V2);
    rf_meta_wr_u64(&w, m->next_group_id);
    rf_meta_wr_u64(&w, m->nodes_epoch);
    rf_meta_wr_u32(&w, (uint32_t)m->n_nodes);
    for (size_t i = 0; i < m->n_nodes; i++) {
        rf_meta_wr_str(&w, m->nodes[i].name);
        rf_meta_wr_str(&w, m->nodes[i].zone);
        rf_meta_wr_u64(&w, m->nodes[i].id);
        rf_meta_wr_u8(&w, m->nodes[i].state);
    }
    rf_meta_wr_u32(&w, (uint32_t)m->n_groups);
    rf_meta_wr_u64(&w, m->groups_sum);
    rf_meta_wr_u32(&w, (uint32_t)m->n_removed);
    for (size_t i = 0; i < m->n_removed; i++) {
        const rf_meta_removed *r = &m->removed[i];
        rf_meta_wr_u64(&w, r->id);
        rf_meta_wr_str(&w, r->name);
        rf_meta_wr_u32(&w, r->n_pending);
        for (uint32_t j = 0; j < r->n_pending; j++)
            rf_meta_wr_u64(&w, r->pending[j]);
    }
    return wr_done(&w, len);
}

static bool decode_nodes(rf_meta *m, rf_meta_rd *rd)
{
    uint32_t n = rf_meta_rd_u32(rd);
    if (rd->bad || n > RF_META_NODES_MAX)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        rf_meta_node nd;
        memset(&nd, 0, sizeof nd);
        rf_meta_rd_str(rd, nd.name, RF_PLACEMENT_NAME_MAX);
        rf_meta_rd_str(rd, nd.zone, RF_PLACEMENT_NAME_MAX);
        nd.id = rf_meta_rd_u64(rd);
        nd.state = rf_meta_rd_u8(rd);
        if (rd->bad || nd.id == 0 || rf_placement_check_name(nd.name) != RF_OK ||
            rf_placement_check_name(nd.zone) != RF_OK)
            return false;
        if (nd.state != RF_META_NODE_ACTIVE && nd.state != RF_META_NODE_DEACTIVATING)
            return false;
        /* Canonical: strictly ascending names, unique ids. */
        if (m->n_nodes > 0 && strcmp(m->nodes[m->n_nodes - 1].name, nd.name) >= 0)
            return false;
        if (rf_meta_node_by_id(m, nd.id) != NULL || rf_meta_insert_node(m, &nd) != RF_OK)
            return false;
    }
    return true;
}

static bool decode_groups(rf_meta *m, rf_meta_rd *rd)
{
    uint32_t n = rf_meta_rd_u32(rd);
    if (rd->bad || n > RF_META_GROUPS_MAX)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        rf_meta_group g;
        memset(&g, 0, sizeof g);
        g.id = rf_meta_rd_u64(rd);
        g.boot_node = rf_meta_rd_u64(rd);
        uint8_t claimed = rf_meta_rd_u8(rd);
        g.claimed = claimed == 1;
        g.replicas = rf_meta_rd_u32(rd);
        rf_meta_rd_str(rd, g.model, RF_MODEL_NAME_MAX);
        rf_meta_rd_str(rd, g.name, RF_GROUP_NAME_MAX);
        if (rd->bad || g.id < RF_META_FIRST_GROUP_ID || g.id >= m->next_group_id ||
            claimed > 1 || (g.boot_node == 0 && g.claimed))
            return false;
        if (g.replicas == 0 || g.replicas > RF_META_REPLICAS_MAX ||
            rf_meta_check_model_name(g.model) != RF_OK || !rf_meta_valid_group_name(g.name))
            return false;
        if (m->n_groups > 0 && m->by_id[m->n_groups - 1]->id >= g.id)
            return false;
        if (rf_meta_group_by_name(m, g.name) != NULL || rf_meta_insert_group(m, &g) != RF_OK)
            return false;
    }
    return true;
}

static bool decode_removed(rf_meta *m, rf_meta_rd *rd)
{
    uint32_t n = rf_meta_rd_u32(rd);
    if (rd->bad || n > RF_META_REMOVED_MAX)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        rf_meta_removed r;
        memset(&r, 0, sizeof r);
        r.id = rf_meta_rd_u64(rd);
        rf_meta_rd_str(rd, r.name, RF_GROUP_NAME_MAX);
        r.n_pending = rf_meta_rd_u32(rd);
        if (rd->bad || r.id < RF_META_FIRST_GROUP_ID || r.id >= m->next_group_id ||
            !rf_meta_valid_group_name(r.name) || r.n_pending == 0 ||
            r.n_pending > RF_META_NODES_MAX || rd->len - rd->off < (size_t)r.n_pending * 8)
            return false;
        if (rf_meta_group_by_id(m, r.id) != NULL ||
            (m->n_removed > 0 && m->removed[m->n_removed - 1].id >= r.id))
            return false;
        r.pending = malloc(r.n_pending * sizeof *r.pending);
        if (r.pending == NULL)
            return false;
        for (uint32_t j = 0; j < r.n_pending; j++)
            r.pending[j] = rf_meta_rd_u64(rd);
        bool ok = true;
        for (uint32_t j = 1; j < r.n_pending; j++)
            ok = ok && r.pending[j - 1] < r.pending[j];
        if (!ok || rf_meta_insert_removed(m, &r) != RF_OK) {
            free(r.pending);
            return false;
        }
    }
    return true;
}

rf_meta *rf_meta_decode_state(const uint8_t *data, size_t len)
{
    if (data == NULL)
        return NULL;
    rf_meta_rd rd = {.p = data, .len = len, .off = 0, .bad = false};
    rf_meta *m = rf_meta_new();
    if (m == NULL)
        return NULL;
    uint8_t fmt = rf_meta_rd_u8(&rd);
    m->next_group_id = rf_meta_rd_u64(&rd);
    m->nodes_epoch = rf_meta_rd_u64(&rd);
    bool ok = !rd.bad && fmt == RF_META_FORMAT_V2 && m->next_group_id >= RF_META_FIRST_GROUP_ID;
    ok = ok && decode_nodes(m, &rd) && decode_groups(m, &rd) && decode_removed(m, &rd);
    if (!ok || rd.bad || rd.off != rd.len) {
        rf_meta_free(m);
        return NULL;
    }
    return m;
}
