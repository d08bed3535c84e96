/* Tests of prod/ctl_place.c: FLEET.PLACEMENT's reply as a table, JSON and a dot graph; malformed replies refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prod/ctl.h"
#include "prod/ctl_place.h"

/* Two zones, three nodes (n2 deactivating, n3 unreachable), two groups: g1
 * hosted with n1 leading and n3 a learner, g2 not hosted here. */
static const char *place_reply =
    "*2\r\n"
    "*3\r\n"
    "*5\r\n$2\r\nn1\r\n$5\r\nzone1\r\n$6\r\nactive\r\n:11\r\n:1\r\n"
    "*5\r\n$2\r\nn2\r\n$5\r\nzone2\r\n$12\r\ndeactivating\r\n:22\r\n:1\r\n"
    "*5\r\n$2\r\nn3\r\n$5\r\nzone1\r\n$6\r\nactive\r\n:33\r\n:0\r\n"
    "*2\r\n"
    "*9\r\n$2\r\ng1\r\n:2\r\n:3\r\n$3\r\nint\r\n$2\r\nn1\r\n:4\r\n:1\r\n"
    "*2\r\n*2\r\n$2\r\nn1\r\n$5\r\nvoter\r\n*2\r\n$2\r\nn3\r\n$7\r\nlearner\r\n"
    "*2\r\n$2\r\nn1\r\n$2\r\nn3\r\n"
    "*9\r\n$2\r\ng2\r\n:3\r\n:1\r\n$2\r\nkv\r\n$-1\r\n:0\r\n:0\r\n*0\r\n*1\r\n$2\r\nn3\r\n";

static char *render(const char *reply, rf_ctl_place_format fmt, int *rc)
{
    rf_ctl_reply r;
    long used = rf_ctl_parse((const uint8_t *)reply, strlen(reply), &r);
    ck_assert_int_eq(used, (long)strlen(reply));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    *rc = rf_ctl_place_print(f, &r, fmt, "placement test");
    fclose(f);
    rf_ctl_reply_free(&r);
    return text;
}

START_TEST(test_ctl_place_dot_draws_zones_members_and_leaders)
{
    int rc;
    char *dot = render(place_reply, RF_CTL_PLACE_DOT, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(dot, "digraph placement"));
    ck_assert_ptr_nonnull(strstr(dot, "subgraph cluster_z0"));
    ck_assert_ptr_nonnull(strstr(dot, "label=zone2"));
    ck_assert_ptr_nonnull(strstr(dot, "n33\t[class=\"node-down\""));
    ck_assert_ptr_nonnull(strstr(dot, "n22\t[class=\"node-inactive\""));
    /* Graph names are ids: g1 is "g2", g2 is "g3". g1: a bold leader edge
     * to n1 and a dashed learner edge to n3; g2, not hosted here: no edge,
     * drawn off its target. */
    const char *lead = strstr(dot, "g2 -> n11\t[class=\"member leader\"");
    const char *learn = strstr(dot, "g2 -> n33\t[class=\"member learner\"");
    ck_assert_ptr_nonnull(lead);
    ck_assert_ptr_nonnull(learn);
    ck_assert_ptr_null(strstr(dot, "g3 -> "));
    ck_assert_ptr_nonnull(strstr(dot, "g3\t[class=\"group off-target\""));
    free(dot);
}
END_TEST

START_TEST(test_ctl_place_table_and_json)
{
    int rc;
    char *t = render(place_reply, RF_CTL_PLACE_TABLE, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(t, "n1,n3(learner)"));
    ck_assert_ptr_nonnull(strstr(t, "(not hosted here)"));
    ck_assert_ptr_nonnull(strstr(t, "deactivating"));
    free(t);
    char *j = render(place_reply, RF_CTL_PLACE_JSON, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(j, "{\"name\":\"n3\",\"zone\":\"zone1\",\"state\":\"active\","
                                    "\"id\":33,\"reachable\":false}"));
    ck_assert_ptr_nonnull(strstr(j, "\"leader\":null,\"term\":0,\"hosted\":false,\"members\":[],"
                                    "\"target\":[\"n3\"]"));
    ck_assert_ptr_nonnull(strstr(j, "{\"node\":\"n3\",\"role\":\"learner\"}"));
    free(j);
}
END_TEST

START_TEST(test_ctl_place_refuses_other_shapes)
{
    int rc;
    const char *bad[] = {"+OK\r\n", "*2\r\n*0\r\n:1\r\n",
                         "*2\r\n*1\r\n*4\r\n$2\r\nn1\r\n$1\r\nz\r\n$6\r\nactive\r\n:1\r\n*0\r\n",
                         "*2\r\n*0\r\n*1\r\n*9\r\n$2\r\ng1\r\n:2\r\n:3\r\n$3\r\nint\r\n:5\r\n:4\r\n"
                         ":1\r\n*0\r\n*0\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = render(bad[i], RF_CTL_PLACE_DOT, &rc);
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(out, "");
        free(out);
    }
}
END_TEST

Suite *prod_ctl_place_suite(void)
{
    Suite *s = suite_create("prod_ctl_place");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ctl_place_dot_draws_zones_members_and_leaders);
    tcase_add_test(tc, test_ctl_place_table_and_json);
    tcase_add_test(tc, test_ctl_place_refuses_other_shapes);
    suite_add_tcase(s, tc);
    return s;
}
