/* node_restore: an rf_node rebuilt from its store after a restart: its journal, then every member it hosted. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/node_int.h"
#include "fleet/node_journal.h"
#include "fleet/node_store_int.h"
#include "fleet/rf_node_store.h"
#include "storage/rf_record.h"

/* What the journal says, replayed record by record. */
typedef struct manifest {
    uint64_t node_id, incarnation;
    char name[NODE_JOURNAL_NAME_MAX + 1];
    char zone[NODE_JOURNAL_NAME_MAX + 1]; /* "": none, or drained */
    node_vec hosted; /* u64, unsorted, may repeat */
    node_vec live;   /* live_group, at most one per id */
    node_vec tombs;  /* node_tomb: the terms of stopped members, may repeat */
} manifest;

typedef struct live_group {
    uint64_t id;
    char model[NODE_JOURNAL_NAME_MAX + 1];
} live_group;

/* A growable byte buffer the entries of one group are read into. */
typedef struct arena {
    uint8_t *p;
    size_t len, cap;
} arena;

static void manifest_free(manifest *m)
{
    free(m->hosted.p);
    free(m->live.p);
    free(m->tombs.p);
}

static int rd_name(const uint8_t *p, size_t len, size_t *at, char *out)
{
    if (*at >= len || p[*at] > len - *at - 1)
        return RF_EBADMSG;
    size_t n = p[*at];
    memcpy(out, p + *at + 1, n);
    out[n] = 0;
    *at += 1 + n;
    return RF_OK;
}

static int rd_u64(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
    if (len - *at < 8 || *at > len)
        return RF_EBADMSG;
    *v = rf_le_get64(p + *at);
    *at += 8;
    return RF_OK;
}

static int live_set(manifest *m, uint64_t id, const char *model)
{
    live_group *l = m->live.p;
    for (size_t i = 0; i < m->live.n; i++)
        if (l[i].id == id) {
            memcpy(l[i].model, model, strlen(model) + 1);
            return RF_OK;
        }
    if (!rf_node__vec_reserve(&m->live, sizeof(live_group), 1) ||
        !rf_node__vec_reserve(&m->hosted, sizeof(uint64_t), 1))
        return RF_ENOMEM;
    l = m->live.p;
    l[m->live.n].id = id;
    memcpy(l[m->live.n].model, model, strlen(model) + 1);
    m->live.n++;
    ((uint64_t *)m->hosted.p)[m->hosted.n++] = id;
    return RF_OK;
}

static int tomb_add(manifest *m, uint64_t group, uint64_t term)
{
    if (term == 0)
        return RF_OK; /* a record from before terms were kept */
    if (!rf_node__vec_reserve(&m->tombs, sizeof(node_tomb), 1))
        return RF_ENOMEM;
    ((node_tomb *)m->tombs.p)[m->tombs.n++] = (node_tomb){.group = group, .term = term};
    return RF_OK;
}

static void live_unset(manifest *m, uint64_t id)
{
    live_group *l = m->live.p;
    for (size_t i = 0; i < m->live.n; i++)
        if (l[i].id == id) {
            l[i] = l[--m->live.n];
            return;
        }
}

static int apply_record(manifest *m, const uint8_t *p, size_t len)
{
    size_t at = 1;
    uint64_t v = 0;
    char name[NODE_JOURNAL_NAME_MAX + 1];
    if (len < 1)
        return RF_EBADMSG;
    int rc = rd_u64(p, len, &at, &v);
    switch (rc == RF_OK ? p[0] : 0) {
    case NODE_JREC_IDENT:
        m->node_id = v;
        rc = rd_name(p, len, &at, m->name);
        break;
    case NODE_JREC_INCARNATION:
        m->incarnation = v;
        break;
    case NODE_JREC_STARTED:
        rc = rd_name(p, len, &at, name);
        if (rc == RF_OK)
            rc = live_set(m, v, name);
        break;
    case NODE_JREC_STOPPED:
        live_unset(m, v);
        if (len - at >= 8) {
            uint64_t term = 0;
            rc = rd_u64(p, len, &at, &term);
            if (rc == RF_OK)
                rc = tomb_add(m, v, term);
        }
        break;
    case NODE_JREC_ZONE:
        rc = rd_name(p, len, &at, m->zone);
        break;
    default:
        return RF_EBADMSG;
    }
    return rc == RF_OK && at != len ? RF_EBADMSG : rc;
}

static int apply_snapshot(manifest *m, const uint8_t *p, size_t len)
{
    size_t at = 1;
    uint64_t count = 0, id = 0;
    char model[NODE_JOURNAL_NAME_MAX + 1];
    if (len < 1 || p[0] < 1 || p[0] > NODE_JOURNAL_SNAP_VERSION)
        return RF_EBADMSG;
    int rc = rd_u64(p, len, &at, &m->node_id);
    if (rc == RF_OK)
        rc = rd_name(p, len, &at, m->name);
    if (rc == RF_OK)
        rc = rd_u64(p, len, &at, &m->incarnation);
    if (rc == RF_OK)
        rc = rd_u64(p, len, &at, &count);
    if (rc == RF_OK && count > (len - at) / 8)
        rc = RF_EBADMSG;
    for (uint64_t i = 0; rc == RF_OK && i < count; i++) {
        rc = rd_u64(p, len, &at, &id);
        if (rc == RF_OK && !rf_node__vec_reserve(&m->hosted, sizeof(uint64_t), 1))
            rc = RF_ENOMEM;
        if (rc == RF_OK)
            ((uint64_t *)m->hosted.p)[m->hosted.n++] = id;
    }
    if (rc == RF_OK)
        rc = rd_u64(p, len, &at, &count);
    for (uint64_t i = 0; rc == RF_OK && i < count; i++) {
        rc = rd_u64(p, len, &at, &id);
        if (rc == RF_OK)
            rc = rd_name(p, len, &at, model);
        if (rc == RF_OK)
            rc = live_set(m, id, model);
    }
    m->zone[0] = '\0';
    if (rc == RF_OK && p[0] >= 2)
        rc = rd_name(p, len, &at, m->zone);
    m->tombs.n = 0;
    if (rc == RF_OK && p[0] >= 3)
        rc = rd_u64(p, len, &at, &count);
    if (rc == RF_OK && p[0] >= 3 && count > (len - at) / 16)
        rc = RF_EBADMSG;
    for (uint64_t i = 0; rc == RF_OK && p[0] >= 3 && i < count; i++) {
        uint64_t term = 0;
        rc = rd_u64(p, len, &at, &id);
        if (rc == RF_OK)
            rc = rd_u64(p, len, &at, &term);
        if (rc == RF_OK)
            rc = tomb_add(m, id, term);
    }
    return rc == RF_OK && at != len ? RF_EBADMSG : rc;
}

/* Reads entry index of group into the arena; its bytes at *off. */
static int read_entry(rf_store *st, uint64_t group, uint64_t index, arena *a, uint64_t *term,
                      size_t *off, size_t *len)
{
    size_t need = NODE_STORE_ENTRY_HEAD + RF_ENTRY_BYTES_MAX;
    if (a->cap - a->len < need) {
        size_t cap = a->cap == 0 ? 1u << 20 : a->cap;
        while (cap - a->len < need)
            cap *= 2;
        uint8_t *p = realloc(a->p, cap);
        if (p == NULL)
            return RF_ENOMEM;
        a->p = p;
        a->cap = cap;
    }
    int rc = rf_store_entry(st, group, index, term, a->p + a->len, a->cap - a->len, len);
    if (rc == RF_ETOOBIG)
        rc = RF_EBADMSG; /* larger than any entry a node writes */
    *off = a->len;
    if (rc == RF_OK)
        a->len += *len;
    return rc;
}

static int read_snapshot(rf_store *st, uint64_t group, uint8_t **data, size_t *len)
{
    size_t need = 0;
    int rc = rf_store_snapshot_read(st, group, NULL, 0, &need);
    if (rc != RF_OK && rc != RF_ETOOBIG)
        return rc;
    *data = malloc(need > 0 ? need : 1);
    if (*data == NULL)
        return RF_ENOMEM;
    rc = rf_store_snapshot_read(st, group, *data, need, len);
    if (rc != RF_OK) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

static int read_journal(rf_store *st, manifest *m, uint64_t *last, uint64_t *records,
                        char *msg, size_t cap)
{
    rf_store_group_info gi;
    int rc = rf_store_group(st, RF_NODE_JOURNAL_GROUP, &gi);
    if (rc != RF_OK)
        return rc;
    if (gi.has_snapshot) {
        uint8_t *d = NULL;
        size_t len = 0, dlen = 0;
        const uint8_t *body = NULL;
        rf_membership none;
        rc = read_snapshot(st, RF_NODE_JOURNAL_GROUP, &d, &len);
        if (rc == RF_OK)
            rc = rf_node__store_snapshot_decode(d, len, &none, &body, &dlen);
        if (rc == RF_OK)
            rc = apply_snapshot(m, body, dlen);
        free(d);
        if (rc != RF_OK) {
            snprintf(msg, cap, "node journal snapshot: %s", rf_strerror(rc));
            return rc;
        }
    }
    arena a = {0};
    uint64_t from = gi.has_snapshot ? gi.snapshot_index + 1 : gi.first_index;
    for (uint64_t i = from; rc == RF_OK && i <= gi.last_index; i++) {
        uint64_t term = 0;
        size_t off = 0, len = 0;
        rf_entry e;
        a.len = 0;
        rc = read_entry(st, RF_NODE_JOURNAL_GROUP, i, &a, &term, &off, &len);
        if (rc == RF_OK)
            rc = rf_node__store_entry_decode(a.p + off, len, i, term, &e);
        if (rc == RF_OK)
            rc = apply_record(m, e.data, e.len);
        if (rc != RF_OK)
            snprintf(msg, cap, "node journal entry %" PRIu64 ": %s", i, rf_strerror(rc));
        (*records)++;
    }
    free(a.p);
    *last = gi.last_index;
    return rc;
}

/* The member of group id as the store holds it; an empty member when the
 * store holds nothing of it (started, then the node crashed before any of
 * its own writes were durable: it had acknowledged nothing). */
static int restore_member(rf_node *n, rf_store *st, uint64_t id, const rf_model *model,
                          rf_node_restore_info *info)
{
    rf_raft_config rc;
    rf_node__raft_config(n, id, model, &rc);
    rf_store_group_info gi;
    rf_raft *r = NULL;
    int err = rf_store_group(st, id, &gi);
    if (err == RF_ENOTFOUND)
        return rf_raft_create(&rc, &r) == RF_OK ? rf_node__insert_group(n, id, r, model)
                                                : RF_ENOMEM;
    if (err != RF_OK)
        return err;
    rf_raft_state s;
    memset(&s, 0, sizeof s);
    s.term = gi.term;
    s.vote = gi.vote;
    uint8_t *snap = NULL;
    size_t snap_len = 0;
    if (gi.has_snapshot) {
        s.snapshot_index = gi.snapshot_index;
        s.snapshot_term = gi.snapshot_term;
        err = read_snapshot(st, id, &snap, &snap_len);
        if (err == RF_OK)
            err = rf_node__store_snapshot_decode(snap, snap_len, &s.snapshot_membership,
                                                 &s.snapshot_data, &s.snapshot_len);
    }
    uint64_t from = s.snapshot_index + 1;
    if (err == RF_OK && gi.last_index >= from && gi.first_index > from)
        err = RF_EBADMSG; /* a hole between the snapshot and the log */
    size_t count = err == RF_OK && gi.last_index >= from ? (size_t)(gi.last_index - from + 1) : 0;
    rf_entry *ents = count > 0 ? malloc(count * sizeof *ents) : NULL;
    size_t *offs = count > 0 ? malloc(count * sizeof *offs) : NULL;
    arena a = {0};
    if (count > 0 && (ents == NULL || offs == NULL))
        err = RF_ENOMEM;
    for (size_t i = 0; err == RF_OK && i < count; i++) {
        uint64_t term = 0;
        size_t len = 0;
        err = read_entry(st, id, from + i, &a, &term, &offs[i], &len);
        if (err == RF_OK) /* the pointer is fixed below: the arena may move */
            err = rf_node__store_entry_decode(a.p + offs[i], len, from + i, term, &ents[i]);
        if (err == RF_OK)
            offs[i] += len - ents[i].len; /* the payload, after a head of either version */
    }
    for (size_t i = 0; err == RF_OK && i < count; i++)
        ents[i].data = ents[i].len > 0 ? a.p + offs[i] : NULL;
    s.entries = ents;
    s.n_entries = count;
    if (err == RF_OK)
        err = rf_raft_restore(&rc, &s, &r);
    if (err == RF_OK && (err = rf_node__insert_group(n, id, r, model)) != RF_OK)
        rf_raft_close(r);
    info->entries += err == RF_OK ? count : 0;
    free(snap);
    free(ents);
    free(offs);
    free(a.p);
    return err;
}

static int restore_members(rf_node *n, rf_store *st, const manifest *m,
                           rf_node_restore_info *info)
{
    const live_group *l = m->live.p;
    for (size_t i = 0; i < m->live.n; i++) {
        const rf_model *model =
            l[i].id == RF_META_GROUP_ID ? &rf_model_fleet_meta : rf_node__model(n, l[i].model);
        if (model == NULL) {
            snprintf(info->message, sizeof info->message,
                     "group %" PRIu64 " uses data model '%.64s', which this node does not load",
                     l[i].id, l[i].model);
            return RF_ENOMODEL;
        }
        int rc = restore_member(n, st, l[i].id, model, info);
        if (rc != RF_OK) {
            snprintf(info->message, sizeof info->message,
                     "group %" PRIu64 ": durable state refused (%s)", l[i].id, rf_strerror(rc));
            return rc;
        }
        info->groups++;
    }
    return RF_OK;
}

/* Logs the journal does not list as live: a stop whose drop was not
 * durable cannot happen (same batch), but a log of a member started and
 * stopped within batches a crash split is dropped here, never restored. */
static int drop_orphans(rf_node *n, rf_store *st, rf_node_restore_info *info)
{
    size_t count = rf_store_groups(st, NULL, 0);
    uint64_t *ids = malloc((count > 0 ? count : 1) * sizeof *ids);
    if (ids == NULL)
        return RF_ENOMEM;
    count = rf_store_groups(st, ids, count);
    for (size_t i = 0; i < count; i++)
        if (ids[i] != RF_NODE_JOURNAL_GROUP && rf_node__group(n, ids[i]) == NULL) {
            rf_node__journal_drop(n, ids[i]);
            info->orphans++;
        }
    free(ids);
    return RF_OK;
}

static int restore_node(rf_node *n, rf_store *st, const manifest *m, uint64_t last,
                        uint64_t records, rf_node_restore_info *info)
{
    n->journal_last = last;
    n->journal_records = records;
    size_t zone_len = strlen(m->zone);
    if (zone_len > RF_PLACEMENT_NAME_MAX)
        return RF_EBADMSG; /* no activation takes such a zone */
    memcpy(n->zone, m->zone, zone_len + 1);
    int rc = rf_node__journal_incarnation(n, m->incarnation + 1);
    const uint64_t *h = m->hosted.p;
    for (size_t i = 0; rc == RF_OK && i < m->hosted.n; i++)
        if (!rf_node__hosted_add(n, h[i]))
            rc = RF_ENOMEM;
    const node_tomb *t = m->tombs.p;
    for (size_t i = 0; rc == RF_OK && i < m->tombs.n; i++)
        rf_node__tomb_set(n, t[i].group, t[i].term);
    if (rc == RF_OK)
        rc = restore_members(n, st, m, info);
    if (rc == RF_OK)
        rc = drop_orphans(n, st, info);
    const rf_raft *meta = rf_node__meta_raft(n);
    n->meta_synced = meta == NULL;
    n->meta_sync_index = meta == NULL ? 0 : rf_raft_last_index(meta);
    info->incarnation = n->incarnation;
    return rc;
}

int rf_node_restore(const rf_node_config *cfg, rf_store *st, rf_node **out,
                    rf_node_restore_info *info)
{
    memset(info, 0, sizeof *info);
    manifest m;
    memset(&m, 0, sizeof m);
    uint64_t last = 0, records = 0;
    int rc = read_journal(st, &m, &last, &records, info->message, sizeof info->message);
    if (rc == RF_ENOTFOUND) {
        snprintf(info->message, sizeof info->message, "the store holds no node");
        manifest_free(&m);
        return RF_ENOTFOUND;
    }
    if (rc == RF_OK && (m.node_id != cfg->node_id || cfg->name == NULL ||
                        strcmp(m.name, cfg->name) != 0 || m.incarnation == 0)) {
        snprintf(info->message, sizeof info->message,
                 "the store belongs to node %" PRIu64 " '%.64s' (incarnation %" PRIu64 ")",
                 m.node_id, m.name, m.incarnation);
        rc = RF_EOTHERNODE;
    }
    rf_node *n = NULL;
    if (rc == RF_OK)
        rc = rf_node__new(cfg, &n);
    if (rc == RF_OK)
        rc = restore_node(n, st, &m, last, records, info);
    manifest_free(&m);
    if (rc != RF_OK) {
        if (info->message[0] == 0)
            snprintf(info->message, sizeof info->message, "%s", rf_strerror(rc));
        rf_node_close(n);
        return rc;
    }
    *out = n;
    return RF_OK;
}
