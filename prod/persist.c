/* persist: fleetd's group commit: rf_node's writes into core/storage on real files, one sync per batch, the I/O off the loop. */
#include "prod/persist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

static int no_sync(void *ctx, rf_fs_file *f)
{
    (void)ctx;
    (void)f;
    return RF_OK;
}

static int no_sync_dir(void *ctx)
{
    (void)ctx;
    return RF_OK;
}

int rf_persist_open(rf_persist *p, const char *dir, bool fsync, char *err, size_t cap)
{
    memset(p, 0, sizeof *p);
    int rc = rf_posix_fs_open(&p->pfs, dir, true);
    if (rc != RF_OK) {
        snprintf(err, cap, "%s: cannot open the data directory (%s)", dir, rf_strerror(rc));
        return rc;
    }
    rf_fs base = rf_posix_fs_fs(p->pfs);
    p->ops = *base.ops;
    if (!fsync) {
        p->ops.sync = no_sync;
        p->ops.sync_dir = no_sync_dir;
    }
    p->fs.ops = &p->ops;
    p->fs.ctx = base.ctx;
    rf_store_config sc = {.segment_bytes = 0, .cache_bytes = 8u << 20, .groups_max = 0};
    rf_store_recovery info;
    memset(&info, 0, sizeof info);
    rc = rf_store_open(&p->st, &p->fs, &sc, &info);
    if (rc != RF_OK) {
        snprintf(err, cap, "%s: store refused to open (%s): %s", dir, rf_strerror(rc),
                 info.message);
        rf_posix_fs_close(p->pfs);
        p->pfs = NULL;
        return rc;
    }
    for (unsigned i = 0; i < RF_PERSIST_BATCHES; i++)
        rf_batch_init(&p->batch[i]);
    return RF_OK;
}

void rf_persist_close(rf_persist *p)
{
    ASSERT(!p->in_flight);
    if (p->st)
        rf_store_close(p->st);
    for (unsigned i = 0; i < RF_PERSIST_BATCHES && p->st != NULL; i++) {
        rf_batch_close(&p->batch[i]);
        rf_node_store_buf_close(&p->bufs[i]);
    }
    if (p->pfs)
        rf_posix_fs_close(p->pfs);
    memset(p, 0, sizeof *p);
}

/* Seals the accumulating batch and moves to the next one. */
static int next_batch(rf_persist *p)
{
    unsigned next = (p->acc + 1) % RF_PERSIST_BATCHES;
    if (next == p->head) {
        p->failed = RF_EFULL;
        return RF_EFULL;
    }
    p->acc = next;
    ASSERT(rf_batch_empty(&p->batch[next]));
    ASSERT(p->token[next] == 0);
    return RF_OK;
}

int rf_persist_add(rf_persist *p, const rf_node_batch *b)
{
    if (p->failed)
        return p->failed;
    if (b->persist_token == 0)
        return RF_OK;
    bool busy = !rf_batch_empty(&p->batch[p->acc]) || (p->in_flight && p->acc == p->head);
    if (rf_node_batch_has_snapshot(b) && busy && next_batch(p) != RF_OK)
        return p->failed;
    int rc = rf_node_store_add(&p->batch[p->acc], &p->bufs[p->acc], b);
    if (rc != RF_OK) {
        p->failed = rc;
        return rc;
    }
    ASSERT(b->persist_token > p->token[p->acc]);
    p->token[p->acc] = b->persist_token;
    return RF_OK;
}

bool rf_persist_can_begin(const rf_persist *p)
{
    if (p->failed || p->in_flight)
        return false;
    /* A sealed batch waits; the accumulating one goes once it has work. */
    return p->head != p->acc || p->token[p->acc] != 0 || !rf_batch_empty(&p->batch[p->acc]);
}

int rf_persist_begin(rf_persist *p)
{
    ASSERT(rf_persist_can_begin(p));
    rf_batch *bt = &p->batch[p->head];
    int rc = rf_batch_empty(bt) ? RF_OK : rf_store_commit_begin(p->st, bt);
    if (rc != RF_OK) {
        p->failed = rc;
        return rc;
    }
    p->in_flight = true;
    p->io_rc = RF_OK;
    if (p->acc == p->head) { /* the next steps' writes go to the next batch */
        rc = next_batch(p);
        ASSERT(rc == RF_OK); /* only this one was in use */
    }
    return RF_OK;
}

void rf_persist_io(rf_persist *p)
{
    ASSERT(p->in_flight);
    /* An empty batch (a token with no records) needs no I/O. */
    p->io_rc = rf_batch_empty(&p->batch[p->head]) ? RF_OK : rf_store_io_run(p->st);
}

int rf_persist_end(rf_persist *p, uint64_t *token)
{
    ASSERT(p->in_flight);
    unsigned done = p->head;
    int rc = rf_batch_empty(&p->batch[done]) ? p->io_rc : rf_store_commit_end(p->st);
    p->in_flight = false;
    p->commits++;
    p->records += rf_batch_records(&p->batch[done]);
    *token = rc == RF_OK ? p->token[done] : 0;
    p->token[done] = 0;
    rf_batch_reset(&p->batch[done]);
    rf_node_store_buf_release(&p->bufs[done]);
    p->head = (done + 1) % RF_PERSIST_BATCHES;
    ASSERT(p->head != (p->acc + 1) % RF_PERSIST_BATCHES);
    if (rc != RF_OK)
        p->failed = rc;
    return rc;
}
