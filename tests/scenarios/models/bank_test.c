/* Tests of scenarios/models/bank.c, loaded as users load their models: dlopen of build/models/bank.so. */
#include <check.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "model/rf_model.h"

static void *lib;
static const rf_model *bank;

static void load_bank(void)
{
    const char *build = getenv("RF_BUILD");
    char path[512];
    snprintf(path, sizeof path, "%s/models/bank.so", build != NULL ? build : "build");
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(lib != NULL, "dlopen %s: %s", path, dlerror());
    const rf_model_table *t = dlsym(lib, RF_MODEL_TABLE_SYMBOL);
    ck_assert_msg(t != NULL, "no %s in %s", RF_MODEL_TABLE_SYMBOL, path);
    ck_assert_uint_eq(t->abi_version, RF_MODEL_ABI_VERSION);
    ck_assert_uint_eq(t->count, 1);
    bank = t->models[0];
    ck_assert_str_eq(bank->name, "bank");
    ck_assert_uint_eq(bank->abi_version, RF_MODEL_ABI_VERSION);
}

static void unload_bank(void)
{
    if (lib != NULL)
        dlclose(lib);
    lib = NULL;
    bank = NULL;
}

/* Runs a command or a query; returns the code and leaves the reply in out. */
static int run(void *state, bool query, const char *in, char *out)
{
    uint8_t reply[128];
    size_t n = 0;
    int rc = query ? bank->query(state, (const uint8_t *)in, strlen(in), reply, sizeof reply, &n)
                   : bank->command(state, (const uint8_t *)in, strlen(in), reply, sizeof reply, &n);
    ck_assert_uint_lt(n, 128);
    memcpy(out, reply, n);
    out[n] = '\0';
    return rc;
}

START_TEST(test_bank_transfers_keep_the_total)
{
    void *s = bank->create();
    char out[128];
    ck_assert_int_eq(run(s, true, "total", out), RF_OK);
    ck_assert_str_eq(out, "800");
    ck_assert_int_eq(run(s, false, "transfer a b 30", out), RF_OK);
    ck_assert_str_eq(out, "ok");
    ck_assert_int_eq(run(s, true, "balance a", out), RF_OK);
    ck_assert_str_eq(out, "70");
    ck_assert_int_eq(run(s, true, "balance b", out), RF_OK);
    ck_assert_str_eq(out, "130");
    /* more than the balance: an ordinary outcome that changes nothing */
    ck_assert_int_eq(run(s, false, "transfer a c 71", out), RF_OK);
    ck_assert_str_eq(out, "insufficient");
    ck_assert_int_eq(run(s, true, "balance a", out), RF_OK);
    ck_assert_str_eq(out, "70");
    ck_assert_int_eq(run(s, true, "total", out), RF_OK);
    ck_assert_str_eq(out, "800");
    bank->destroy(s);
}
END_TEST

START_TEST(test_bank_rejects_malformed_input_without_change)
{
    void *s = bank->create();
    char out[128];
    static const char *bad[] = {"", "transfer", "transfer a a 5", "transfer a z 5",
                                "transfer a b 0", "transfer a b 05", "transfer a b -5",
                                "transfer a b 1000000001", "transfer  a b 5", "deposit a 5",
                                "transfer a b 5 6"};
    uint64_t before = bank->digest(s);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(run(s, false, bad[i], out), RF_EINVAL);
        ck_assert(strncmp(out, "error: ", 7) == 0);
    }
    ck_assert_int_eq(run(s, true, "balance i", out), RF_EINVAL);
    ck_assert_int_eq(run(s, true, "sum", out), RF_EINVAL);
    ck_assert(bank->digest(s) == before);
    bank->destroy(s);
}
END_TEST

START_TEST(test_bank_encoding_round_trips_and_refuses_garbage)
{
    void *s = bank->create();
    char out[128];
    run(s, false, "transfer h a 99", out);
    uint8_t enc[128];
    size_t len;
    ck_assert_int_eq(bank->encode(s, enc, 3, &len), RF_ETOOBIG);
    ck_assert_int_eq(bank->encode(s, enc, sizeof enc, &len), RF_OK);
    ck_assert_uint_eq(len, 65);
    void *copy = bank->decode(enc, len);
    ck_assert_ptr_nonnull(copy);
    ck_assert(bank->digest(copy) == bank->digest(s));
    void *fresh = bank->create();
    ck_assert(bank->digest(copy) != bank->digest(fresh));
    bank->destroy(fresh);
    bank->destroy(copy);
    /* a total other than 800, a wrong format, a wrong size */
    enc[1] ^= 1;
    ck_assert_ptr_null(bank->decode(enc, len));
    enc[1] ^= 1;
    enc[0] = 2;
    ck_assert_ptr_null(bank->decode(enc, len));
    enc[0] = 1;
    ck_assert_ptr_null(bank->decode(enc, len - 1));
    bank->destroy(s);
}
END_TEST

Suite *bank_model_suite(void)
{
    Suite *s = suite_create("bank_model");
    TCase *tc = tcase_create("bank");
    tcase_add_checked_fixture(tc, load_bank, unload_bank);
    tcase_add_test(tc, test_bank_transfers_keep_the_total);
    tcase_add_test(tc, test_bank_rejects_malformed_input_without_change);
    tcase_add_test(tc, test_bank_encoding_round_trips_and_refuses_garbage);
    suite_add_tcase(s, tc);
    return s;
}
