/* rf_model: the data-model interface (RaftFleet's data behaviour), public and versioned. */
#ifndef RF_MODEL_H
#define RF_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* A data model is the replicated state machine of a consensus group. The
 * same table runs built-in models, users' models loaded from shared
 * libraries by the drivers (--model-lib PATH.so), and the simulator's
 * linearizability checker, which uses a model as its sequential
 * specification.
 *
 * Commands, queries and replies are byte strings. The built-in models use
 * text: tokens separated by one space ("set 5", "inc", "put k v").
 *
 * Every function must be deterministic: the same state and input give the
 * same new state and reply on every replica, build and machine. A model
 * that is not is reported as a model bug (replicas compare digests). */

#define RF_MODEL_ABI_VERSION 1u
#define RF_MODEL_NAME_MAX 32      /* bytes, [a-z0-9_-] */
#define RF_MODEL_INPUT_MAX 65536  /* bytes of one command or query */
#define RF_MODEL_REPLY_MAX 65536  /* bytes of one reply */

typedef struct rf_model {
    uint32_t abi_version; /* RF_MODEL_ABI_VERSION */
    const char *name;

    /* A fresh state (RaftFleet's new/0); NULL when out of memory. */
    void *(*create)(void);
    void (*destroy)(void *state);

    /* Applies a command: updates state and writes the reply (at most
     * reply_cap bytes) to reply, its length to *reply_len. Returns 0, or a
     * non-zero rf_err code for a command the model rejects; a rejected
     * command leaves state unchanged and its reply (an error text) is
     * still written, so every replica replies the same. */
    int (*command)(void *state, const uint8_t *cmd, size_t cmd_len,
                   uint8_t *reply, size_t reply_cap, size_t *reply_len);

    /* Answers a query from the state without changing it. */
    int (*query)(const void *state, const uint8_t *q, size_t q_len,
                 uint8_t *reply, size_t reply_cap, size_t *reply_len);

    /* Encodes state into out. When cap is too small, sets *len to the size
     * needed and returns RF_ETOOBIG; the caller retries with a bigger
     * buffer. */
    int (*encode)(const void *state, uint8_t *out, size_t cap, size_t *len);

    /* A new state from an encoding; NULL when data is malformed or memory
     * runs out. Must never crash on arbitrary bytes. */
    void *(*decode)(const uint8_t *data, size_t len);

    /* A 64-bit digest of the state: equal states give equal digests. */
    uint64_t (*digest)(const void *state);
} rf_model;

/* What a model library exports, under the symbol name RF_MODEL_TABLE_SYMBOL. */
typedef struct rf_model_table {
    uint32_t abi_version; /* RF_MODEL_ABI_VERSION */
    uint32_t count;
    const rf_model *const *models;
} rf_model_table;

#define RF_MODEL_TABLE_SYMBOL "rf_model_table_v1"

/* Built-in models. */
extern const rf_model rf_model_int; /* "int": set N / inc reply the old value; get */
extern const rf_model rf_model_kv;  /* "kv": put / get / del / cas */

/* The built-in model of that name, or NULL. */
const rf_model *rf_model_builtin(const char *name);

#endif
