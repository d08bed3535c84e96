/* Tests of prod/persist.c: node batches into the store on real files, pipelined commits, reopening. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "prod/persist.h"
#include "storage/rf_record.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/rf-persist-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int remove_one(void *arg, const char *name)
{
    rf_fs *fs = arg;
    return fs->ops->remove(fs->ctx, name);
}

static void teardown(void)
{
    rf_posix_fs *p;
    if (rf_posix_fs_open(&p, dir, false) == RF_OK) {
        rf_fs fs = rf_posix_fs_fs(p);
        fs.ops->list(fs.ctx, remove_one, &fs);
        rf_posix_fs_close(p);
    }
    rmdir(dir);
}

/* A node batch for group 7: entries [first, first + n) of term, and a hard state. */
static void make_batch(rf_node_batch *b, rf_node_write *w, rf_entry *e, uint64_t token,
                       uint64_t first, size_t n, uint64_t term)
{
    memset(b, 0, sizeof *b);
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        memset(&e[i], 0, sizeof e[i]);
        e[i].index = first + i;
        e[i].term = term;
        e[i].kind = RF_ENTRY_COMMAND;
        e[i].client_id = 3;
        e[i].sequence = first + i;
        e[i].floor = first + i - 1;
        e[i].data = (const uint8_t *)"inc";
        e[i].len = 3;
    }
    w->group_id = 7;
    w->entries = e;
    w->n_entries = n;
    w->has_hard_state = true;
    w->term = term;
    w->vote = 2;
    b->persist_token = token;
    b->writes = w;
    b->n_writes = 1;
}

START_TEST(test_persist_pipelined_commits_report_tokens_in_order)
{
    rf_persist p;
    char err[256];
    ck_assert_int_eq(rf_persist_open(&p, dir, true, err, sizeof err), RF_OK);
    ck_assert(!rf_persist_can_begin(&p));
    rf_node_batch b;
    rf_node_write w;
    rf_entry e[4];
    make_batch(&b, &w, e, 1, 1, 2, 1);
    ck_assert_int_eq(rf_persist_add(&p, &b), RF_OK);
    ck_assert(rf_persist_can_begin(&p));
    ck_assert_int_eq(rf_persist_begin(&p), RF_OK);
    /* While the first commit is in flight, the next writes accumulate. */
    make_batch(&b, &w, e, 2, 3, 2, 1);
    ck_assert_int_eq(rf_persist_add(&p, &b), RF_OK);
    make_batch(&b, &w, e, 3, 5, 1, 2);
    ck_assert_int_eq(rf_persist_add(&p, &b), RF_OK);
    ck_assert(!rf_persist_can_begin(&p));
    rf_persist_io(&p);
    uint64_t tok;
    ck_assert_int_eq(rf_persist_end(&p, &tok), RF_OK);
    ck_assert_uint_eq(tok, 1);
    ck_assert(rf_persist_can_begin(&p));
    ck_assert_int_eq(rf_persist_begin(&p), RF_OK);
    rf_persist_io(&p);
    ck_assert_int_eq(rf_persist_end(&p, &tok), RF_OK);
    ck_assert_uint_eq(tok, 3); /* covers tokens 2 and 3: one sync for both steps */
    ck_assert_uint_eq(p.commits, 2);
    rf_persist_close(&p);

    /* Everything is there after reopening. */
    ck_assert_int_eq(rf_persist_open(&p, dir, true, err, sizeof err), RF_OK);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(p.st, 7, &gi), RF_OK);
    ck_assert_uint_eq(gi.last_index, 5);
    ck_assert_uint_eq(gi.term, 2);
    ck_assert_uint_eq(gi.vote, 2);
    uint8_t buf[64];
    size_t len;
    uint64_t term;
    ck_assert_int_eq(rf_store_entry(p.st, 7, 5, &term, buf, sizeof buf, &len), RF_OK);
    ck_assert_uint_eq(term, 2);
    ck_assert_uint_eq(len, 25 + 3); /* entry head version 2: kind | 0x80, client, seq, floor */
    ck_assert_uint_eq(buf[0], RF_ENTRY_COMMAND | 0x80);
    ck_assert_uint_eq(rf_le_get64(buf + 1), 3);
    ck_assert_uint_eq(rf_le_get64(buf + 9), 5);
    ck_assert_uint_eq(rf_le_get64(buf + 17), 4);
    ck_assert_mem_eq(buf + 25, "inc", 3);
    rf_persist_close(&p);
}
END_TEST

/* A batch the store refuses (an index gap) stops every later commit. */
START_TEST(test_persist_refused_batch_stops_acknowledgements)
{
    rf_persist p;
    char err[256];
    ck_assert_int_eq(rf_persist_open(&p, dir, false, err, sizeof err), RF_OK);
    rf_node_batch b;
    rf_node_write w;
    rf_entry e[2];
    make_batch(&b, &w, e, 1, 5, 1, 1); /* index 5 with nothing before */
    ck_assert_int_eq(rf_persist_add(&p, &b), RF_OK);
    ck_assert_int_ne(rf_persist_begin(&p), RF_OK);
    ck_assert_int_ne(p.failed, RF_OK);
    make_batch(&b, &w, e, 2, 1, 1, 1);
    ck_assert_int_ne(rf_persist_add(&p, &b), RF_OK);
    ck_assert(!rf_persist_can_begin(&p));
    rf_persist_close(&p);
}
END_TEST

START_TEST(test_persist_snapshot_bytes_survive_the_node_buffer)
{
    rf_persist p;
    char err[256];
    ck_assert_int_eq(rf_persist_open(&p, dir, true, err, sizeof err), RF_OK);
    rf_node_batch b;
    rf_node_write w;
    memset(&b, 0, sizeof b);
    memset(&w, 0, sizeof w);
    uint8_t model[5] = {'s', 't', 'a', 't', 'e'};
    w.group_id = 9;
    w.has_snapshot = true;
    w.snapshot.index = 0;
    w.snapshot.term = 0;
    w.snapshot.membership.count = 1;
    w.snapshot.membership.members[0].id = 4;
    w.snapshot.membership.members[0].voter = 1;
    w.snapshot.data = model;
    w.snapshot.len = sizeof model;
    b.persist_token = 1;
    b.writes = &w;
    b.n_writes = 1;
    ck_assert_int_eq(rf_persist_add(&p, &b), RF_OK);
    memset(model, 'x', sizeof model); /* the node reuses its buffer after advance */
    ck_assert_int_eq(rf_persist_begin(&p), RF_OK);
    rf_persist_io(&p);
    uint64_t tok;
    ck_assert_int_eq(rf_persist_end(&p, &tok), RF_OK);
    ck_assert_uint_eq(tok, 1);
    uint8_t buf[64];
    size_t len;
    ck_assert_int_eq(rf_store_snapshot_read(p.st, 9, buf, sizeof buf, &len), RF_OK);
    ck_assert_uint_eq(len, 4 + 9 + 5);
    ck_assert_uint_eq(rf_le_get32(buf), 1);
    ck_assert_uint_eq(rf_le_get64(buf + 4), 4);
    ck_assert_uint_eq(buf[12], 1);
    ck_assert_mem_eq(buf + 13, "state", 5);
    rf_persist_close(&p);
}
END_TEST

/* A compaction snapshot staged after entries of the same group goes to a
 * batch of its own (the store refuses it in the entries' batch). */
START_TEST(test_persist_snapshot_after_entries_starts_a_new_batch)
{
    rf_persist p;
    char err[256];
    ck_assert_int_eq(rf_persist_open(&p, dir, false, err, sizeof err), RF_OK);
    rf_node_batch b;
    rf_node_write w;
    rf_entry e[4];
    make_batch(&b, &w, e, 1, 1, 4, 1);
    ck_assert_int_eq(rf_persist_add(&p, &b), RF_OK);
    make_batch(&b, &w, e, 2, 5, 0, 1);
    w.has_snapshot = true;
    w.snapshot.index = 3;
    w.snapshot.term = 1;
    w.snapshot.membership.count = 1;
    w.snapshot.membership.members[0].id = 2;
    w.snapshot.membership.members[0].voter = 1;
    w.snapshot.data = (const uint8_t *)"3";
    w.snapshot.len = 1;
    ck_assert_int_eq(rf_persist_add(&p, &b), RF_OK);
    ck_assert_uint_ne(p.acc, p.head);
    uint64_t tok, got[2];
    for (int i = 0; i < 2; i++) {
        ck_assert(rf_persist_can_begin(&p));
        ck_assert_int_eq(rf_persist_begin(&p), RF_OK);
        rf_persist_io(&p);
        ck_assert_int_eq(rf_persist_end(&p, &tok), RF_OK);
        got[i] = tok;
    }
    ck_assert_uint_eq(got[0], 1);
    ck_assert_uint_eq(got[1], 2);
    ck_assert(!rf_persist_can_begin(&p));
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(p.st, 7, &gi), RF_OK);
    ck_assert_uint_eq(gi.snapshot_index, 3);
    ck_assert_uint_eq(gi.last_index, 4);
    rf_persist_close(&p);
}
END_TEST

Suite *prod_persist_suite(void)
{
    Suite *s = suite_create("prod_persist");
    TCase *tc = tcase_create("persist");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_persist_pipelined_commits_report_tokens_in_order);
    tcase_add_test(tc, test_persist_refused_batch_stops_acknowledgements);
    tcase_add_test(tc, test_persist_snapshot_bytes_survive_the_node_buffer);
    tcase_add_test(tc, test_persist_snapshot_after_entries_starts_a_new_batch);
    suite_add_tcase(s, tc);
    return s;
}
