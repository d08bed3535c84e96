/* auth: mutual HMAC-SHA256 challenge-response between fleetd peers over a cluster secret. */
#include "prod/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "placement/rf_placement.h"
#include "prod/frame.h"
#include "storage/rf_record.h"

#define AUTH_LABEL "raftfleet-auth-v1"
#define AUTH_HELLO_FIXED_BYTES (1u + 8u + RF_AUTH_NONCE_BYTES + 1u)

__attribute__((format(printf, 3, 4))) static int auth_fail(rf_auth *a, int code,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof a->reason, fmt, ap);
    va_end(ap);
    a->state = RF_AUTH_FAILED;
    return code;
}

/* The proof `prover` gives `verifier`: see the layout in auth.h. */
static void auth_mac(const rf_auth *a, bool we_prove, uint8_t mac[RF_AUTH_MAC_BYTES])
{
    uint8_t msg[sizeof AUTH_LABEL + 16 + 2 * RF_AUTH_NONCE_BYTES + 2 * (RF_AUTH_NAME_BYTES_MAX + 1)];
    size_t n = 0;
    uint64_t prover = we_prove ? a->self_id : a->peer_id;
    uint64_t verifier = we_prove ? a->peer_id : a->self_id;
    const uint8_t *vnonce = we_prove ? a->peer_nonce : a->self_nonce;
    const uint8_t *pnonce = we_prove ? a->self_nonce : a->peer_nonce;
    const char *pname = we_prove ? a->self_name : a->peer_name;
    const char *vname = we_prove ? a->peer_name : a->self_name;
    memcpy(msg, AUTH_LABEL, sizeof AUTH_LABEL - 1);
    n += sizeof AUTH_LABEL - 1;
    rf_le_put64(msg + n, prover);
    rf_le_put64(msg + n + 8, verifier);
    n += 16;
    memcpy(msg + n, vnonce, RF_AUTH_NONCE_BYTES);
    memcpy(msg + n + RF_AUTH_NONCE_BYTES, pnonce, RF_AUTH_NONCE_BYTES);
    n += 2 * RF_AUTH_NONCE_BYTES;
    const char *names[2] = {pname, vname};
    for (int i = 0; i < 2; i++) {
        size_t l = strlen(names[i]);
        ASSERT(l <= RF_AUTH_NAME_BYTES_MAX);
        msg[n++] = (uint8_t)l;
        memcpy(msg + n, names[i], l);
        n += l;
    }
    ASSERT(n <= sizeof msg);
    unsigned int mac_len = 0;
    uint8_t *r = HMAC(EVP_sha256(), a->secret, (int)a->secret_len, msg, n, mac, &mac_len);
    /* HMAC-SHA256 with a valid key cannot fail short of a broken library. */
    ASSERT(r != NULL);
    ASSERT(mac_len == RF_AUTH_MAC_BYTES);
    OPENSSL_cleanse(msg, sizeof msg);
}

int rf_auth_start(rf_auth *a, const void *secret, size_t secret_len, uint64_t self_id,
                  const char *self_name, uint64_t expect_peer_id, rf_auth_out *out)
{
    memset(a, 0, sizeof *a);
    out->type = 0;
    out->len = 0;
    a->state = RF_AUTH_FAILED;
    if (secret_len < RF_AUTH_SECRET_BYTES_MIN || secret_len > RF_AUTH_SECRET_BYTES_MAX)
        return auth_fail(a, RF_EINVAL, "cluster secret of %zu bytes (want %u..%u)", secret_len,
                         RF_AUTH_SECRET_BYTES_MIN, RF_AUTH_SECRET_BYTES_MAX);
    if (self_id == 0 || self_name == NULL || rf_placement_check_name(self_name) != RF_OK ||
        strlen(self_name) > RF_AUTH_NAME_BYTES_MAX)
        return auth_fail(a, RF_EINVAL, "bad own identity");
    if (RAND_bytes(a->self_nonce, RF_AUTH_NONCE_BYTES) != 1)
        return auth_fail(a, RF_EIO, "random generator failed");
    memcpy(a->secret, secret, secret_len);
    a->secret_len = secret_len;
    a->self_id = self_id;
    a->expect_peer_id = expect_peer_id;
    strcpy(a->self_name, self_name);
    a->state = RF_AUTH_WAIT_HELLO;

    size_t name_len = strlen(self_name);
    out->type = RF_FRAME_AUTH_HELLO;
    out->buf[0] = RF_AUTH_VERSION;
    rf_le_put64(out->buf + 1, self_id);
    memcpy(out->buf + 9, a->self_nonce, RF_AUTH_NONCE_BYTES);
    out->buf[9 + RF_AUTH_NONCE_BYTES] = (uint8_t)name_len;
    memcpy(out->buf + AUTH_HELLO_FIXED_BYTES, self_name, name_len);
    out->len = (uint32_t)(AUTH_HELLO_FIXED_BYTES + name_len);
    return RF_OK;
}

static int auth_on_hello(rf_auth *a, const uint8_t *p, uint32_t len, rf_auth_out *out)
{
    if (len < AUTH_HELLO_FIXED_BYTES)
        return auth_fail(a, RF_EPROTO, "short HELLO (%u bytes)", (unsigned)len);
    if (p[0] != RF_AUTH_VERSION)
        return auth_fail(a, RF_EPROTO, "auth version %u, this build speaks %u", (unsigned)p[0],
                         RF_AUTH_VERSION);
    size_t name_len = p[9 + RF_AUTH_NONCE_BYTES];
    if (name_len == 0 || name_len > RF_AUTH_NAME_BYTES_MAX || len != AUTH_HELLO_FIXED_BYTES + name_len)
        return auth_fail(a, RF_EPROTO, "HELLO with a bad name length");
    memcpy(a->peer_name, p + AUTH_HELLO_FIXED_BYTES, name_len);
    a->peer_name[name_len] = '\0';
    if (strlen(a->peer_name) != name_len || rf_placement_check_name(a->peer_name) != RF_OK) {
        a->peer_name[0] = '\0'; /* never logged: not a valid name */
        return auth_fail(a, RF_EPROTO, "HELLO with an invalid node name");
    }
    a->peer_id = rf_le_get64(p + 1);
    if (a->peer_id == 0 || a->peer_id == a->self_id)
        return auth_fail(a, RF_EAUTH, "peer %s claims node id %llu", a->peer_name,
                         (unsigned long long)a->peer_id);
    if (a->expect_peer_id && a->peer_id != a->expect_peer_id)
        return auth_fail(a, RF_EAUTH, "peer %s is node %llu, expected node %llu", a->peer_name,
                         (unsigned long long)a->peer_id, (unsigned long long)a->expect_peer_id);
    memcpy(a->peer_nonce, p + 9, RF_AUTH_NONCE_BYTES);
    if (CRYPTO_memcmp(a->peer_nonce, a->self_nonce, RF_AUTH_NONCE_BYTES) == 0)
        return auth_fail(a, RF_EAUTH, "peer %s echoed our challenge", a->peer_name);
    out->type = RF_FRAME_AUTH_PROOF;
    out->len = RF_AUTH_MAC_BYTES;
    auth_mac(a, true, out->buf);
    a->state = RF_AUTH_WAIT_PROOF;
    return RF_OK;
}

static void auth_result(rf_auth_out *out, bool ok)
{
    out->type = RF_FRAME_AUTH_RESULT;
    out->len = 1;
    out->buf[0] = ok ? 1 : 0;
}

static int auth_on_proof(rf_auth *a, const uint8_t *p, uint32_t len, rf_auth_out *out)
{
    if (len != RF_AUTH_MAC_BYTES)
        return auth_fail(a, RF_EPROTO, "PROOF of %u bytes", (unsigned)len);
    uint8_t want[RF_AUTH_MAC_BYTES];
    auth_mac(a, false, want);
    int diff = CRYPTO_memcmp(want, p, RF_AUTH_MAC_BYTES);
    OPENSSL_cleanse(want, sizeof want);
    if (diff != 0) {
        auth_result(out, false);
        return auth_fail(a, RF_EAUTH, "peer %s (node %llu) gave a wrong proof: not in this cluster",
                         a->peer_name, (unsigned long long)a->peer_id);
    }
    auth_result(out, true);
    a->state = a->peer_accepted_us ? RF_AUTH_DONE : RF_AUTH_WAIT_RESULT;
    return RF_OK;
}

int rf_auth_recv(rf_auth *a, uint8_t type, const uint8_t *payload, uint32_t len,
                 rf_auth_out *out)
{
    out->type = 0;
    out->len = 0;
    if (a->state == RF_AUTH_FAILED)
        return RF_EAUTH;
    if (a->state == RF_AUTH_DONE)
        return auth_fail(a, RF_EPROTO, "auth frame after the exchange");
    switch (type) {
    case RF_FRAME_AUTH_HELLO:
        if (a->state != RF_AUTH_WAIT_HELLO)
            return auth_fail(a, RF_EPROTO, "second HELLO");
        return auth_on_hello(a, payload, len, out);
    case RF_FRAME_AUTH_PROOF:
        if (a->state != RF_AUTH_WAIT_PROOF)
            return auth_fail(a, RF_EPROTO, "PROOF out of turn");
        return auth_on_proof(a, payload, len, out);
    case RF_FRAME_AUTH_RESULT:
        /* The peer's verdict on our proof may come before or after ours. */
        if (a->state == RF_AUTH_WAIT_HELLO || a->peer_accepted_us)
            return auth_fail(a, RF_EPROTO, "RESULT out of turn");
        if (len != 1 || payload[0] > 1)
            return auth_fail(a, RF_EPROTO, "malformed RESULT");
        if (payload[0] == 0)
            return auth_fail(a, RF_EAUTH, "peer %s refused our proof: secrets differ",
                             a->peer_name);
        a->peer_accepted_us = true;
        if (a->state == RF_AUTH_WAIT_RESULT)
            a->state = RF_AUTH_DONE;
        return RF_OK;
    default:
        return auth_fail(a, RF_EPROTO, "frame type %u before authentication", (unsigned)type);
    }
}

void rf_auth_close(rf_auth *a)
{
    OPENSSL_cleanse(a->secret, sizeof a->secret);
    OPENSSL_cleanse(a->self_nonce, sizeof a->self_nonce);
    OPENSSL_cleanse(a->peer_nonce, sizeof a->peer_nonce);
    a->secret_len = 0;
    if (a->state != RF_AUTH_DONE)
        a->state = RF_AUTH_FAILED;
}

int rf_auth_read_secret_file(const char *path, uint8_t *buf, size_t cap, size_t *len,
                             char *err, size_t err_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_cap, "%s: %s", path, strerror(e));
        return e == ENOENT ? RF_ENOTFOUND : RF_EIO;
    }
    struct stat st;
    int rc = RF_OK;
    size_t n = 0;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        rc = RF_EIO;
    } else if (st.st_mode & 077) {
        snprintf(err, err_cap, "%s: other users may read or write it (mode %04o); chmod 600",
                 path, (unsigned)(st.st_mode & 07777));
        rc = RF_EINVAL;
    }
    while (rc == RF_OK) {
        if (n == cap) {
            uint8_t extra;
            ssize_t more = read(fd, &extra, 1);
            if (more != 0) {
                snprintf(err, err_cap, "%s: secret longer than %zu bytes", path, cap);
                rc = RF_EINVAL;
            }
            OPENSSL_cleanse(&extra, 1);
            break;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, err_cap, "%s: %s", path, strerror(errno));
            rc = RF_EIO;
        }
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (rc == RF_OK) {
        if (n > 0 && buf[n - 1] == '\n')
            n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
        if (n < RF_AUTH_SECRET_BYTES_MIN) {
            snprintf(err, err_cap, "%s: secret shorter than %u bytes", path,
                     RF_AUTH_SECRET_BYTES_MIN);
            rc = RF_EINVAL;
        }
    }
    if (rc != RF_OK) {
        OPENSSL_cleanse(buf, cap);
        n = 0;
    }
    *len = n;
    return rc;
}
