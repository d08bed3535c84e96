/* Tests of prod/client.c and prod/commands.c: the command table, AUTH, argument checks, RESP errors. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "prod/client.h"
#include "prod/commands.h"
#include "prod/resp.h"

#define PASSWORD "s3cret-pass"

static rf_client_config cfg_nopass = {NULL, 0, "n1", "zone1", "0.1.0", NULL, NULL};
static rf_client_config cfg_pass = {(const uint8_t *)PASSWORD, sizeof PASSWORD - 1, "n1", "zone1",
                                    "0.1.0", NULL, NULL};

/* Sends one inline request through the parser and the session; returns the
 * action and leaves the reply text in reply (NUL-terminated). */
static rf_client_action run(rf_client *c, const char *line, rf_fleet_req *req, char *reply,
                            size_t cap)
{
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s\r\n", line);
    ck_assert_uint_eq(rf_resp_feed(&p, buf, (size_t)n), (size_t)n);
    rf_resp_cmd cmd;
    ck_assert_int_eq(rf_resp_next(&p, &cmd), 1);
    rf_resp_out o;
    rf_resp_out_init(&o);
    rf_client_action a = rf_client_handle(c, &cmd, &o, req);
    ck_assert_uint_lt(o.len, cap);
    memcpy(reply, o.buf ? (const char *)o.buf : "", o.len);
    reply[o.len] = '\0';
    rf_resp_out_close(&o);
    /* req's strings point into the parser: copy what the test checks. */
    if (a == RF_CLIENT_FLEET && req->name) {
        static char name[64];
        snprintf(name, sizeof name, "%s", req->name);
        req->name = name;
    }
    if (a == RF_CLIENT_FLEET && req->model) {
        static char model[64];
        snprintf(model, sizeof model, "%s", req->model);
        req->model = model;
    }
    if (a == RF_CLIENT_FLEET && req->payload && req->payload != c->scratch) {
        static uint8_t payload[256];
        memcpy(payload, req->payload, req->payload_len);
        req->payload = payload;
    }
    rf_resp_parser_close(&p);
    return a;
}

static void expect(rf_client *c, const char *line, const char *want)
{
    char reply[8192];
    rf_fleet_req req;
    ck_assert_int_eq(run(c, line, &req, reply, sizeof reply), RF_CLIENT_REPLIED);
    ck_assert_str_eq(reply, want);
}

START_TEST(test_client_local_commands_and_errors)
{
    rf_client c;
    ck_assert_int_eq(rf_client_init(&c, &cfg_nopass, 7), RF_OK);
    expect(&c, "PING", "+PONG\r\n");
    expect(&c, "ping hi", "$2\r\nhi\r\n");
    expect(&c, "PING a b", "-ERR wrong number of arguments for 'ping' command\r\n");
    expect(&c, "NOSUCH x y", "-ERR unknown command 'NOSUCH', with args beginning with: 'x' 'y' \r\n");
    expect(&c, "SELECT 0", "+OK\r\n");
    expect(&c, "SELECT 3", "-ERR DB index is out of range\r\n");
    expect(&c, "CLIENT ID", ":7\r\n");
    expect(&c, "CLIENT SETNAME bench", "+OK\r\n");
    expect(&c, "CONFIG GET appendonly", "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n");
    expect(&c, "CONFIG GET maxmemory", "*0\r\n");
    expect(&c, "COMMAND DOCS", "*0\r\n");
    char want[32];
    snprintf(want, sizeof want, ":%zu\r\n", rf_cmd_count());
    expect(&c, "COMMAND COUNT", want);
    expect(&c, "AUTH x", "-ERR AUTH <password> called without any password configured for the "
                         "default user. Are you sure your configuration is correct?\r\n");
    expect(&c, "HELLO 3", "-NOPROTO sorry, this protocol version is not supported\r\n");
    char reply[8192];
    rf_fleet_req req;
    ck_assert_int_eq(run(&c, "QUIT", &req, reply, sizeof reply), RF_CLIENT_CLOSE);
    ck_assert_str_eq(reply, "+OK\r\n");
    ck_assert_int_eq(run(&c, "COMMAND", &req, reply, sizeof reply), RF_CLIENT_REPLIED);
    snprintf(want, sizeof want, "*%zu\r\n*6\r\n$4\r\nping\r\n", rf_cmd_count());
    ck_assert_int_eq(strncmp(reply, want, strlen(want)), 0);
    ck_assert_ptr_nonnull(strstr(reply, "fleet.cmd"));
    ck_assert_int_eq(run(&c, "HELLO 2", &req, reply, sizeof reply), RF_CLIENT_REPLIED);
    ck_assert_int_eq(strncmp(reply, "*14\r\n$6\r\nserver\r\n$6\r\nfleetd\r\n", 29), 0);
    rf_client_close(&c);
}
END_TEST

START_TEST(test_client_password_requires_auth)
{
    rf_client c;
    ck_assert_int_eq(rf_client_init(&c, &cfg_pass, 1), RF_OK);
    expect(&c, "PING", "-NOAUTH Authentication required.\r\n");
    expect(&c, "FLEET.CMD g1 inc", "-NOAUTH Authentication required.\r\n");
    expect(&c, "NOSUCH", "-NOAUTH Authentication required.\r\n");
    expect(&c, "AUTH wrong", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    expect(&c, "AUTH bob " PASSWORD,
           "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    expect(&c, "PING", "-NOAUTH Authentication required.\r\n");
    expect(&c, "AUTH " PASSWORD, "+OK\r\n");
    expect(&c, "PING", "+PONG\r\n");
    rf_client_close(&c);

    ck_assert_int_eq(rf_client_init(&c, &cfg_pass, 2), RF_OK);
    expect(&c, "AUTH default " PASSWORD, "+OK\r\n");
    expect(&c, "PING", "+PONG\r\n");
    rf_client_close(&c);

    ck_assert_int_eq(rf_client_init(&c, &cfg_pass, 3), RF_OK);
    expect(&c, "HELLO 2 AUTH default wrong",
           "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    char reply[8192];
    rf_fleet_req req;
    ck_assert_int_eq(run(&c, "HELLO 2 AUTH default " PASSWORD, &req, reply, sizeof reply),
                     RF_CLIENT_REPLIED);
    ck_assert_int_eq(reply[0], '*');
    expect(&c, "PING", "+PONG\r\n");
    rf_client_close(&c);
}
END_TEST

START_TEST(test_client_info_has_no_password)
{
    rf_client c;
    ck_assert_int_eq(rf_client_init(&c, &cfg_pass, 1), RF_OK);
    expect(&c, "AUTH " PASSWORD, "+OK\r\n");
    char reply[8192];
    rf_fleet_req req;
    ck_assert_int_eq(run(&c, "INFO", &req, reply, sizeof reply), RF_CLIENT_REPLIED);
    ck_assert_ptr_nonnull(strstr(reply, "node:n1\r\n"));
    ck_assert_ptr_nonnull(strstr(reply, "auth_required:yes"));
    ck_assert_ptr_null(strstr(reply, PASSWORD));
    rf_client_close(&c);
}
END_TEST

START_TEST(test_client_fleet_add_arguments_checked)
{
    rf_client c;
    ck_assert_int_eq(rf_client_init(&c, &cfg_nopass, 1), RF_OK);
    expect(&c, "FLEET.ADD g1 3", "-ERR wrong number of arguments for 'fleet.add' command\r\n");
    expect(&c, "FLEET.ADD g1 three int", "-ERR replicas must be an integer from 1 to 15\r\n");
    expect(&c, "FLEET.ADD g1 0 int", "-ERR replicas must be an integer from 1 to 15\r\n");
    expect(&c, "FLEET.ADD g1 16 int", "-ERR replicas must be an integer from 1 to 15\r\n");
    expect(&c, "FLEET.ADD g1 03 int", "-ERR replicas must be an integer from 1 to 15\r\n");
    expect(&c, "FLEET.ADD g1 3 Int!",
           "-ERR invalid model name: 1 to 32 bytes of [a-z0-9_-]\r\n");
    expect(&c, "FLEET.ACTIVATE bad/zone",
           "-ERR invalid zone name: 1 to 64 bytes of [A-Za-z0-9._@-]\r\n");
    char reply[256];
    rf_fleet_req req;
    ck_assert_int_eq(run(&c, "fleet.add g1 3 int", &req, reply, sizeof reply), RF_CLIENT_FLEET);
    ck_assert_str_eq(reply, "");
    ck_assert_int_eq(req.id, RF_CMD_FLEET_ADD);
    ck_assert_str_eq(req.name, "g1");
    ck_assert_uint_eq(req.replicas, 3);
    ck_assert_str_eq(req.model, "int");
    ck_assert_int_eq(run(&c, "FLEET.ACTIVATE zone1", &req, reply, sizeof reply), RF_CLIENT_FLEET);
    ck_assert_int_eq(req.id, RF_CMD_FLEET_ACTIVATE);
    ck_assert_str_eq(req.name, "zone1");
    ck_assert_int_eq(run(&c, "FLEET.STATUS", &req, reply, sizeof reply), RF_CLIENT_FLEET);
    ck_assert_ptr_null(req.name);
    rf_client_close(&c);
}
END_TEST

/* Model input: one argument as is, several joined with single spaces. */
START_TEST(test_client_fleet_cmd_input_joined)
{
    rf_client c;
    ck_assert_int_eq(rf_client_init(&c, &cfg_nopass, 1), RF_OK);
    char reply[256];
    rf_fleet_req req;
    ck_assert_int_eq(run(&c, "FLEET.CMD g1 inc", &req, reply, sizeof reply), RF_CLIENT_FLEET);
    ck_assert_uint_eq(req.payload_len, 3);
    ck_assert_mem_eq(req.payload, "inc", 3);
    ck_assert_int_eq(run(&c, "FLEET.CMD g1 set 5", &req, reply, sizeof reply), RF_CLIENT_FLEET);
    ck_assert_uint_eq(req.payload_len, 5);
    ck_assert_mem_eq(req.payload, "set 5", 5);
    ck_assert_int_eq(run(&c, "FLEET.QUERY g1 get", &req, reply, sizeof reply), RF_CLIENT_FLEET);
    ck_assert_int_eq(req.id, RF_CMD_FLEET_QUERY);
    ck_assert_str_eq(req.name, "g1");
    expect(&c, "FLEET.CMD g1", "-ERR wrong number of arguments for 'fleet.cmd' command\r\n");

    /* Through RESP arrays: one argument with a space is passed whole; an
     * empty one among several is refused. */
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    const char *raw = "*3\r\n$9\r\nFLEET.CMD\r\n$2\r\ng1\r\n$5\r\nset 5\r\n"
                      "*4\r\n$9\r\nFLEET.CMD\r\n$2\r\ng1\r\n$3\r\nset\r\n$0\r\n\r\n";
    rf_resp_feed(&p, raw, strlen(raw));
    rf_resp_cmd cmd;
    rf_resp_out o;
    rf_resp_out_init(&o);
    ck_assert_int_eq(rf_resp_next(&p, &cmd), 1);
    ck_assert_int_eq(rf_client_handle(&c, &cmd, &o, &req), RF_CLIENT_FLEET);
    ck_assert_mem_eq(req.payload, "set 5", 5);
    ck_assert_int_eq(rf_resp_next(&p, &cmd), 1);
    ck_assert_int_eq(rf_client_handle(&c, &cmd, &o, &req), RF_CLIENT_REPLIED);
    ck_assert_int_eq(strncmp((const char *)o.buf, "-ERR argument 2 is empty", 24), 0);
    rf_resp_out_close(&o);
    rf_resp_parser_close(&p);
    rf_client_close(&c);
}
END_TEST

START_TEST(test_client_node_status_uses_raftfleet_error_names)
{
    rf_resp_out o;
    rf_resp_out_init(&o);
    rf_client_reply_status(&o, RF_ENOLEADER, NULL, 0);
    rf_client_reply_status(&o, RF_EALREADYADDED, NULL, 0);
    rf_client_reply_status(&o, RF_EINVAL, (const uint8_t *)"error: bad command", 18);
    rf_client_reply_status(&o, RF_OK, (const uint8_t *)"41", 2);
    rf_client_reply_status(&o, RF_OK, NULL, 0);
    o.buf[o.len] = 0; /* room: the buffer is at least 4 KiB */
    ck_assert_str_eq((const char *)o.buf, "-no_leader no leader\r\n"
                                          "-already_added consensus group already added\r\n"
                                          "-ERR error: bad command\r\n"
                                          "$2\r\n41\r\n"
                                          "+OK\r\n");
    ck_assert_str_eq(rf_client_error_word(RF_ENOTFOUND), "not_found");
    ck_assert_str_eq(rf_client_error_word(RF_ECLEANUP), "cleanup_ongoing");
    ck_assert_str_eq(rf_client_error_word(RF_ENOACTIVENODE), "no_active_node");
    ck_assert_str_eq(rf_client_error_word(RF_ENOTINACTIVE), "not_inactive");
    ck_assert_str_eq(rf_client_error_word(RF_EINACTIVE), "inactive");
    rf_resp_out_close(&o);
}
END_TEST

START_TEST(test_commands_table_lookup)
{
    ck_assert_ptr_nonnull(rf_cmd_lookup("fleet.cmd", 9));
    ck_assert_ptr_nonnull(rf_cmd_lookup("Fleet.Status", 12));
    ck_assert_ptr_null(rf_cmd_lookup("fleet.cmdx", 10));
    ck_assert_ptr_null(rf_cmd_lookup("fleet.cm", 8));
    const char *must[] = {"FLEET.ADD",    "FLEET.REMOVE", "FLEET.GROUPS",   "FLEET.NODES",
                          "FLEET.CMD",    "FLEET.QUERY",  "FLEET.LEADER",   "FLEET.STATUS",
                          "FLEET.ACTIVATE", "FLEET.DEACTIVATE", "AUTH", "PING", "QUIT", "INFO",
                          "COMMAND",      "HELLO"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        const rf_cmd_spec *s = rf_cmd_lookup(must[i], strlen(must[i]));
        ck_assert_ptr_nonnull(s);
        ck_assert_int_eq(!!(s->flags & RF_CMDF_FLEET), strncmp(must[i], "FLEET.", 6) == 0);
    }
    /* Every name is found by itself, in any case: its recorded length and
     * its upper case first letter, which the lookup compares first, hold. */
    for (size_t i = 0; i < rf_cmd_count(); i++) {
        const rf_cmd_spec *c = rf_cmd_at(i);
        char lower[32];
        size_t n = strlen(c->name);
        ck_assert_uint_eq(c->name_len, n);
        ck_assert_uint_lt(n, sizeof lower);
        ck_assert_uint_gt(n, 1);
        for (size_t k = 0; k <= n; k++)
            lower[k] = (char)tolower((unsigned char)c->name[k]);
        ck_assert_ptr_eq(rf_cmd_lookup(c->name, n), c);
        ck_assert_ptr_eq(rf_cmd_lookup(lower, n), c);
        ck_assert(rf_cmd_lookup(c->name, n - 1) != c); /* a prefix is another name or none */
    }
}
END_TEST

Suite *prod_client_suite(void)
{
    Suite *s = suite_create("prod_client");
    TCase *tc = tcase_create("client");
    tcase_add_test(tc, test_client_local_commands_and_errors);
    tcase_add_test(tc, test_client_password_requires_auth);
    tcase_add_test(tc, test_client_info_has_no_password);
    tcase_add_test(tc, test_client_fleet_add_arguments_checked);
    tcase_add_test(tc, test_client_fleet_cmd_input_joined);
    tcase_add_test(tc, test_client_node_status_uses_raftfleet_error_names);
    tcase_add_test(tc, test_commands_table_lookup);
    suite_add_tcase(s, tc);
    return s;
}
