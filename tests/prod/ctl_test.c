/* Tests of prod/ctl.c: fleetctl's reply parser (partial, nested, malformed), requests, tables and JSON. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prod/ctl.h"

static const char *nodes_reply = "*2\r\n*4\r\n$2\r\nn1\r\n$5\r\nzone1\r\n$6\r\nactive\r\n:7\r\n"
                                 "*4\r\n$2\r\nn2\r\n$5\r\nzone2\r\n$12\r\ndeactivating\r\n:9\r\n";

START_TEST(test_ctl_parse_nested_reply_and_partial_input)
{
    size_t n = strlen(nodes_reply);
    rf_ctl_reply r;
    /* Every strict prefix needs more bytes. */
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(rf_ctl_parse((const uint8_t *)nodes_reply, k, &r), 0);
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)nodes_reply, n, &r), (long)n);
    ck_assert_int_eq(r.kind, RF_CTL_ARRAY);
    ck_assert_int_eq(r.n, 2);
    ck_assert_str_eq(r.elems[1].elems[2].str, "deactivating");
    ck_assert_int_eq(r.elems[1].elems[3].n, 9);
    rf_ctl_reply_free(&r);
}
END_TEST

START_TEST(test_ctl_parse_scalars_and_garbage)
{
    rf_ctl_reply r;
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)"-no_leader no leader\r\n", 22, &r), 22);
    ck_assert_int_eq(r.kind, RF_CTL_ERROR);
    ck_assert_str_eq(r.str, "no_leader no leader");
    rf_ctl_reply_free(&r);
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)"$-1\r\n", 5, &r), 5);
    ck_assert_int_eq(r.kind, RF_CTL_NULL);
    rf_ctl_reply_free(&r);
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)"$3\r\na\r\n\r\n", 9, &r), 9);
    ck_assert_uint_eq(r.len, 3);
    ck_assert_mem_eq(r.str, "a\r\n", 3);
    rf_ctl_reply_free(&r);
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)"$3\r\nabcXY", 9, &r), -1);
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)"?what\r\n", 7, &r), -1);
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)":12x\r\n", 6, &r), -1);
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)"*2\r\n:1\r\n!\r\n", 11, &r), -1);
    /* Nesting beyond the bound. */
    char deep[64] = "";
    for (int i = 0; i < 12; i++)
        strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    ck_assert_int_eq(rf_ctl_parse((const uint8_t *)deep, strlen(deep), &r), -1);
}
END_TEST

START_TEST(test_ctl_request_encoding)
{
    const char *argv[] = {"FLEET.CMD", "g1", "set 5"};
    char buf[128];
    size_t n = rf_ctl_request(buf, sizeof buf, 3, argv);
    const char *want = "*3\r\n$9\r\nFLEET.CMD\r\n$2\r\ng1\r\n$5\r\nset 5\r\n";
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(buf, want, n);
    ck_assert_uint_eq(rf_ctl_request(buf, 20, 3, argv), 0);
}
END_TEST

static char *render(const char *reply, rf_ctl_view view, bool json)
{
    rf_ctl_reply r;
    ck_assert_int_gt(rf_ctl_parse((const uint8_t *)reply, strlen(reply), &r), 0);
    static char out[2048];
    FILE *f = fmemopen(out, sizeof out, "w");
    ck_assert_ptr_nonnull(f);
    rf_ctl_print(f, &r, view, json);
    fclose(f);
    rf_ctl_reply_free(&r);
    return out;
}

START_TEST(test_ctl_print_tables_and_json)
{
    ck_assert_str_eq(render(nodes_reply, RF_CTL_VIEW_NODES, true),
                     "[{\"name\":\"n1\",\"zone\":\"zone1\",\"state\":\"active\",\"id\":7},"
                     "{\"name\":\"n2\",\"zone\":\"zone2\",\"state\":\"deactivating\",\"id\":9}]\n");
    char *t = render(nodes_reply, RF_CTL_VIEW_NODES, false);
    ck_assert_ptr_nonnull(strstr(t, "NAME"));
    ck_assert_ptr_nonnull(strstr(t, "deactivating"));
    ck_assert_str_eq(render("*4\r\n$4\r\nnode\r\n$2\r\nn1\r\n$6\r\nleader\r\n$-1\r\n",
                            RF_CTL_VIEW_MAP, true),
                     "{\"node\":\"n1\",\"leader\":null}\n");
    ck_assert_str_eq(render("$4\r\na\"b\\\r\n", RF_CTL_VIEW_VALUE, true), "\"a\\\"b\\\\\"\n");
    ck_assert_str_eq(render(":41\r\n", RF_CTL_VIEW_VALUE, false), "41\n");
}
END_TEST

Suite *prod_ctl_suite(void)
{
    Suite *s = suite_create("prod_ctl");
    TCase *tc = tcase_create("ctl");
    tcase_add_test(tc, test_ctl_parse_nested_reply_and_partial_input);
    tcase_add_test(tc, test_ctl_parse_scalars_and_garbage);
    tcase_add_test(tc, test_ctl_request_encoding);
    tcase_add_test(tc, test_ctl_print_tables_and_json);
    suite_add_tcase(s, tc);
    return s;
}
