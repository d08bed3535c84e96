/* Tests of core/fleet/node_frame.c on the fleet harness: which messages may start a member on demand. */
#include "base/rf_le.h"
#include "fleet/node_int.h"
#include "tests/core/fleet/fleet_helpers.h"

static uint32_t member_other_than(const rf_membership *mm, uint32_t a, uint32_t b)
{
    for (uint32_t k = 0; k < mm->count; k++) {
        uint32_t i = (uint32_t)mm->members[k].id - 1;
        if (i != a && i != b)
            return i;
    }
    ck_abort_msg("no such member");
    return 0;
}

/* A deposed leader, cut off before a newer leader removed node X from its
 * group, comes back and sends X a heartbeat in its old term. X stopped its
 * member (and dropped its log) when it was removed: it must not start an
 * empty one for that old term, which would follow the deposed leader and
 * let it answer a read from its stale state (fuzz seed 205876). */
START_TEST(test_node_stopped_member_is_not_revived_by_an_older_term)
{
    static const char *const zones[] = {"a", "b", "c", "a"};
    rf_sim_fleet *f = fleet_new_hinted(4, 205876, 600 * SEC);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 0, "consensus1", "inc"), NULL), RF_OK);
    int li = rf_sim_fleet_leader(f, gid);
    ck_assert_int_ge(li, 0);
    uint32_t l = (uint32_t)li;
    const rf_membership *mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, l), gid));
    uint32_t x = member_other_than(mm, l, l), y = member_other_than(mm, l, x), z = 0;
    while (z == l || z == x || z == y)
        z++;
    /* The leader is cut off; the others elect a newer one and drain x. */
    rf_sim_fleet_isolate(f, l, true);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 5 * SEC);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, y, "consensus1", "inc"), NULL), RF_OK);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, x), NULL), RF_OK);
    uint64_t end = rf_sim_fleet_now(f) + 30 * SEC;
    while (rf_node_group(rf_sim_fleet_node(f, x), gid) != NULL && rf_sim_fleet_now(f) < end)
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
    ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, x), gid)); /* x stopped its member */
    /* The deposed leader reaches x, and only x, and is asked for a read. */
    rf_sim_fleet_isolate(f, l, false);
    rf_sim_net_partition(rf_sim_fleet_net(f), (1u << l) | (1u << x), (1u << y) | (1u << z));
    uint64_t req = rf_sim_fleet_query(f, l, "consensus1", "get");
    int status = -1;
    bool replied = rf_sim_fleet_wait(f, req, 3 * SEC, &status, text);
    ck_assert_msg(!replied || status != RF_OK, "the deposed leader answered a read: %s", text);
    ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, x), gid));
    rf_sim_net_heal(rf_sim_fleet_net(f));
    fleet_done(f);
}
END_TEST

/* One raft message in a node frame from node `from`, handed to a node. */
typedef struct raw_msg {
    uint64_t from;
    rf_msg m;
    int rc;
} raw_msg;

static void receive_raw(rf_node *n, void *ctx)
{
    raw_msg *r = ctx;
    uint8_t buf[512];
    size_t len = 0;
    ck_assert_int_eq(rf_msg_encode(&r->m, buf + NODE_FRAME_HEAD + NODE_REC_HEAD,
                                   sizeof buf - NODE_FRAME_HEAD - NODE_REC_HEAD, &len),
                     RF_OK);
    buf[0] = 'R';
    buf[1] = 'N';
    buf[2] = RF_NODE_WIRE_VERSION;
    buf[3] = 0;
    rf_le_put64(buf + 4, r->from);
    rf_le_put32(buf + 12, 1);
    buf[NODE_FRAME_HEAD] = NODE_REC_RAFT;
    rf_le_put32(buf + NODE_FRAME_HEAD + 1, (uint32_t)len);
    r->rc = rf_node_receive(n, r->from, buf, NODE_FRAME_HEAD + NODE_REC_HEAD + len);
}

static void send_raw(rf_sim_fleet *f, uint32_t to, uint32_t from, uint8_t type, uint64_t gid,
                     uint64_t term)
{
    raw_msg r;
    memset(&r, 0, sizeof r);
    r.from = from + 1;
    r.m.type = type;
    r.m.group_id = gid;
    r.m.from = from + 1;
    r.m.to = to + 1;
    r.m.term = term;
    r.m.index = 1000; /* a candidate's log ahead of any */
    r.m.log_term = term;
    rf_sim_fleet_poke(f, to, receive_raw, &r);
    ck_assert_int_eq(r.rc, RF_OK);
}

/* Once a member of a group stopped here in term T, only a leader's
 * message of term T or later starts one again, and the new member starts
 * in T as having voted in it: a candidate's pre-vote or vote starts none
 * (a member started for a pre-vote, whose term it did not take, had then
 * followed a deposed leader's older term), and the new member ignores
 * every older term and votes for nobody in T. */
START_TEST(test_node_stopped_member_restarts_only_for_a_leader_in_its_term)
{
    static const char *const zones[] = {"a", "b", "c", "a"};
    rf_sim_fleet *f = fleet_new_hinted(4, 77, 600 * SEC);
    activate_all(f, zones, 4);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
    int li = rf_sim_fleet_leader(f, gid);
    ck_assert_int_ge(li, 0);
    uint32_t l = (uint32_t)li;
    const rf_membership *mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, l), gid));
    uint32_t x = member_other_than(mm, l, l), y = member_other_than(mm, l, x);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, x), NULL), RF_OK);
    uint64_t end = rf_sim_fleet_now(f) + 30 * SEC;
    while (rf_node_group(rf_sim_fleet_node(f, x), gid) != NULL && rf_sim_fleet_now(f) < end)
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
    ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, x), gid));
    uint64_t t = rf_node__tomb_term(rf_sim_fleet_node(f, x), gid);
    ck_assert_uint_ge(t, 1);
    /* A candidate of a newer term, and of T: no member. */
    send_raw(f, x, y, RF_MSG_PREVOTE, gid, t + 1);
    send_raw(f, x, y, RF_MSG_VOTE, gid, t + 1);
    ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, x), gid));
    /* A leader of an older term: none either. */
    send_raw(f, x, y, RF_MSG_HEARTBEAT, gid, t - 1);
    ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, x), gid));
    /* A leader of T: a member in T, having voted (for itself). */
    send_raw(f, x, y, RF_MSG_HEARTBEAT, gid, t);
    const rf_raft *r = rf_node_group(rf_sim_fleet_node(f, x), gid);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(rf_raft_term(r), t);
    ck_assert_uint_eq(rf_raft_vote(r), x + 1);
    ck_assert_uint_eq(rf_raft_leader(r), y + 1);
    /* An older term is ignored by it. */
    send_raw(f, x, l, RF_MSG_HEARTBEAT, gid, t - 1);
    r = rf_node_group(rf_sim_fleet_node(f, x), gid);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(rf_raft_term(r), t);
    ck_assert_uint_eq(rf_raft_leader(r), y + 1);
    fleet_done(f);
}
END_TEST

Suite *fleet_node_frame_suite(void)
{
    Suite *s = suite_create("fleet_node_frame");
    TCase *tc = tcase_create("node_frame");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_node_stopped_member_is_not_revived_by_an_older_term);
    tcase_add_test(tc, test_node_stopped_member_restarts_only_for_a_leader_in_its_term);
    suite_add_tcase(s, tc);
    return s;
}
