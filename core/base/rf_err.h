/* rf_err: the one list of raftfleet error codes. 0 is success. */
#ifndef RF_ERR_H
#define RF_ERR_H

/* X(name, value, description). Codes are stable: they appear in logs,
 * history databases and on the wire. Append; never renumber. Each module
 * owns a block of values so that modules grow without colliding. */
#define RF_ERRORS(X)                                                        \
    X(RF_OK, 0, "success")                                                  \
    /* general 1..99 */                                                     \
    X(RF_ENOMEM, 1, "out of memory")                                        \
    X(RF_EINVAL, 2, "invalid argument")                                     \
    X(RF_ERANGE, 3, "value out of range")                                   \
    X(RF_ETOOBIG, 4, "size exceeds its bound")                              \
    X(RF_EBADMSG, 5, "malformed message")                                   \
    X(RF_ENOTFOUND, 6, "not found")                                         \
    X(RF_EEXIST, 7, "already exists")                                       \
    X(RF_EBUSY, 8, "busy: another operation is in progress")                \
    X(RF_ETIMEDOUT, 9, "timed out")                                         \
    X(RF_ESHUTDOWN, 10, "shutting down")                                    \
    X(RF_EVERSION, 11, "unsupported version")                               \
    X(RF_EFULL, 12, "queue or table full")                                  \
    /* raft 100..199 */                                                     \
    X(RF_ENOTLEADER, 100, "not the leader")                                 \
    X(RF_ENOLEADER, 101, "no leader")                                       \
    X(RF_ESTALETERM, 102, "stale term")                                     \
    X(RF_ECONFCHANGE, 103, "a membership change is already in progress")    \
    X(RF_EQUORUM, 104, "change would break the quorum")                     \
    X(RF_ENOTMEMBER, 105, "not a member of the group")                      \
    X(RF_ESESSION, 110, "client session expired: retry outcome unknown")    \
    X(RF_EUNKNOWN, 111, "outcome unknown: leadership changed before commit")\
    X(RF_ELAGGING, 106, "target is not caught up")                          \
    X(RF_ETRANSFER, 107, "leadership transfer in progress")                 \
    X(RF_EINDEXGAP, 108, "log index gap")                                   \
    X(RF_ECOMPACTED, 109, "entry compacted into a snapshot")                \
    /* storage 200..299 */                                                  \
    X(RF_EIO, 200, "input/output error")                                    \
    X(RF_ENOSPC, 201, "no space left on device")                            \
    X(RF_ECORRUPT, 202, "data corruption detected")                         \
    X(RF_ECHECKSUM, 203, "checksum mismatch")                               \
    X(RF_EREADONLY, 204, "store refuses writes after a failure")            \
    /* fleet 300..399 */                                                    \
    X(RF_ENOTINACTIVE, 300, "node is not inactive")                         \
    X(RF_EINACTIVE, 301, "node is inactive")                                \
    X(RF_EALREADYADDED, 302, "consensus group already added")               \
    X(RF_ENOACTIVENODE, 303, "no active node")                              \
    X(RF_ECLEANUP, 304, "clean-up of a removed group is ongoing")           \
    X(RF_EBADNAME, 305, "invalid name")                                     \
    X(RF_EOTHERNODE, 307, "durable state belongs to another node")          \
    X(RF_ENOTBOOT, 308, "not the group's boot node")                        \
    X(RF_ENOMODEL, 306, "unknown data model")                               \
    /* sim 400..499 */                                                      \
    X(RF_ESCENARIO, 400, "scenario error")                                  \
    X(RF_ENODEDOWN, 410, "the node crashed before it replied")              \
    X(RF_EFOREIGNDB, 470, "database is not a raftfleet history")            \
    X(RF_EDB, 471, "history database error")                                \
    X(RF_ECHECK, 401, "a checker found a violation")                        \
    X(RF_ENONDET, 402, "non-determinism detected")                          \
    /* prod 500..599 */                                                     \
    X(RF_EPROTO, 500, "protocol error")                                     \
    X(RF_EAUTH, 501, "authentication failed")

typedef enum {
#define RF_ERR_ENUM(name, value, text) name = value,
    RF_ERRORS(RF_ERR_ENUM)
#undef RF_ERR_ENUM
} rf_err;

/* A static description of code; "unknown error" for codes not in the list. */
const char *rf_strerror(int code);

/* The symbolic name ("RF_EINVAL"), or "RF_?" for unknown codes. */
const char *rf_errname(int code);

#endif
