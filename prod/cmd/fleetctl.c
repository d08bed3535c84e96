/* fleetctl: administers and queries a raftfleet cluster through any fleetd's client port. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "prod/config.h"
#include "prod/ctl.h"
#include "prod/ctl_place.h"

/* Exit codes: 0 success; 1 the cluster answered with an error (the error
 * is printed: no_leader, already_added, not_found ...); 2 bad usage;
 * 3 the node could not be reached or answered garbage. */
enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

#define CTL_REQUEST_BYTES_MAX 65536u
#define CTL_TIMEOUT_S 10

static const char usage_text[] =
    "usage: fleetctl [-s HOST:PORT] [-a PASSWORD] [--json] COMMAND [ARGS]\n"
    "  -s HOST:PORT      a fleetd client port (default 127.0.0.1:6101)\n"
    "  -a PASSWORD       AUTH first (or FLEETCTL_PASSWORD in the environment)\n"
    "  --json            JSON output instead of tables\n"
    "commands:\n"
    "  add-group NAME --replicas N --model MODEL\n"
    "  remove-group NAME\n"
    "  groups | nodes | status [NAME] | leader NAME\n"
    "  cmd NAME ARGS... | query NAME ARGS...\n"
    "  activate ZONE | deactivate\n"
    "  placement [--format table|json|dot]\n"
    "                    nodes by zone, groups, their members and leaders as the node\n"
    "                    knows them; dot is a graphviz graph (dot -Tsvg)\n"
    "exit codes: 0 ok, 1 the cluster answered an error, 2 usage, 3 unreachable or a\n"
    "malformed reply\n";

/* The placement view (not an rf_ctl_view: printed by prod/ctl_place.h). */
#define VIEW_PLACEMENT 100
static rf_ctl_place_format place_format = RF_CTL_PLACE_TABLE;

static int dial(const rf_addr *a)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)a->port);
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(a->host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {CTL_TIMEOUT_S, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends one request and reads its whole reply. */
static int call(int fd, int argc, const char *const *argv, rf_ctl_reply *out)
{
    static char req[CTL_REQUEST_BYTES_MAX];
    size_t n = rf_ctl_request(req, sizeof req, argc, argv);
    if (n == 0) {
        fprintf(stderr, "fleetctl: request over %u bytes\n", CTL_REQUEST_BYTES_MAX);
        return EXIT_USAGE;
    }
    if (send(fd, req, n, 0) != (ssize_t)n)
        return EXIT_UNREACHABLE;
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL)
            return EXIT_UNREACHABLE;
        long used = rf_ctl_parse(buf, len, out);
        if (used > 0)
            break;
        if (used < 0 || len == RF_CTL_BULK_BYTES_MAX + 4096u) {
            free(buf);
            fprintf(stderr, "fleetctl: malformed reply\n");
            return EXIT_UNREACHABLE;
        }
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t got = recv(fd, buf + len, cap - len, 0);
        if (got <= 0) {
            free(buf);
            fprintf(stderr, "fleetctl: connection lost or timed out\n");
            return EXIT_UNREACHABLE;
        }
        len += (size_t)got;
    }
    free(buf);
    return 0;
}

/* Maps fleetctl's command line onto a RESP request; returns the view or -1. */
static int build(int argc, char **argv, const char **req, int *nreq)
{
    const char *c = argv[0];
    int n = 0;
    rf_ctl_view view = RF_CTL_VIEW_VALUE;
    if (strcmp(c, "add-group") == 0 && argc == 6) {
        const char *replicas = NULL, *model = NULL;
        for (int i = 2; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--replicas") == 0)
                replicas = argv[i + 1];
            else if (strcmp(argv[i], "--model") == 0)
                model = argv[i + 1];
        }
        if (!replicas || !model)
            return -1;
        req[n++] = "FLEET.ADD", req[n++] = argv[1], req[n++] = replicas, req[n++] = model;
    } else if (strcmp(c, "remove-group") == 0 && argc == 2) {
        req[n++] = "FLEET.REMOVE", req[n++] = argv[1];
    } else if (strcmp(c, "groups") == 0 && argc == 1) {
        req[n++] = "FLEET.GROUPS", view = RF_CTL_VIEW_GROUPS;
    } else if (strcmp(c, "nodes") == 0 && argc == 1) {
        req[n++] = "FLEET.NODES", view = RF_CTL_VIEW_NODES;
    } else if (strcmp(c, "status") == 0 && argc <= 2) {
        req[n++] = "FLEET.STATUS", view = RF_CTL_VIEW_MAP;
        if (argc == 2)
            req[n++] = argv[1];
    } else if (strcmp(c, "leader") == 0 && argc == 2) {
        req[n++] = "FLEET.LEADER", req[n++] = argv[1];
    } else if ((strcmp(c, "cmd") == 0 || strcmp(c, "query") == 0) && argc >= 3 && argc < 64) {
        req[n++] = c[0] == 'c' ? "FLEET.CMD" : "FLEET.QUERY";
        for (int i = 1; i < argc; i++)
            req[n++] = argv[i];
    } else if (strcmp(c, "activate") == 0 && argc == 2) {
        req[n++] = "FLEET.ACTIVATE", req[n++] = argv[1];
    } else if (strcmp(c, "deactivate") == 0 && argc == 1) {
        req[n++] = "FLEET.DEACTIVATE";
    } else if (strcmp(c, "placement") == 0 &&
               (argc == 1 || (argc == 3 && strcmp(argv[1], "--format") == 0))) {
        const char *fmt = argc == 3 ? argv[2] : "table";
        if (strcmp(fmt, "table") == 0)
            place_format = RF_CTL_PLACE_TABLE;
        else if (strcmp(fmt, "json") == 0)
            place_format = RF_CTL_PLACE_JSON;
        else if (strcmp(fmt, "dot") == 0)
            place_format = RF_CTL_PLACE_DOT;
        else
            return -1;
        req[n++] = "FLEET.PLACEMENT";
        *nreq = n;
        return VIEW_PLACEMENT;
    } else {
        return -1;
    }
    *nreq = n;
    return (int)view;
}

int main(int argc, char **argv)
{
    const char *server = "127.0.0.1:6101", *password = getenv("FLEETCTL_PASSWORD");
    bool json = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            server = argv[++i];
        else if (strcmp(argv[i], "-a") == 0 && i + 1 < argc)
            password = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return fputs(usage_text, stdout), 0;
        else
            return fputs(usage_text, stderr), EXIT_USAGE;
    }
    const char *req[72];
    int nreq = 0;
    int view = i < argc ? build(argc - i, argv + i, req, &nreq) : -1;
    rf_addr addr;
    if (view < 0 || rf_addr_parse(server, false, &addr) != RF_OK)
        return fputs(usage_text, stderr), EXIT_USAGE;
    int fd = dial(&addr);
    if (fd < 0) {
        fprintf(stderr, "fleetctl: cannot connect to %s\n", server);
        return EXIT_UNREACHABLE;
    }
    rf_ctl_reply r;
    int rc = 0;
    if (password != NULL) {
        const char *auth[2] = {"AUTH", password};
        rc = call(fd, 2, auth, &r);
        if (rc == 0 && r.kind == RF_CTL_ERROR) {
            fprintf(stderr, "fleetctl: %s\n", r.str);
            rc = EXIT_REFUSED;
        }
        if (rc == 0)
            rf_ctl_reply_free(&r);
    }
    if (rc == 0)
        rc = call(fd, nreq, req, &r);
    close(fd);
    if (rc != 0)
        return rc;
    if (r.kind == RF_CTL_ERROR) {
        fprintf(stderr, "fleetctl: %s\n", r.str);
        rf_ctl_reply_free(&r);
        return EXIT_REFUSED;
    }
    if (view == VIEW_PLACEMENT) {
        char title[160];
        snprintf(title, sizeof title, "placement as %s sees it", server);
        if (json && place_format == RF_CTL_PLACE_TABLE)
            place_format = RF_CTL_PLACE_JSON;
        rc = rf_ctl_place_print(stdout, &r, place_format, title);
        rf_ctl_reply_free(&r);
        if (rc != 0)
            fprintf(stderr, "fleetctl: malformed placement reply\n");
        return rc == 0 ? 0 : EXIT_UNREACHABLE;
    }
    rf_ctl_print(stdout, &r, (rf_ctl_view)view, json);
    rf_ctl_reply_free(&r);
    return 0;
}
