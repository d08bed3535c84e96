-- history.sql: the raftfleet history schema (SQLite), version 1.
--
-- One database holds the history of one run, or of many runs (a fuzz
-- campaign, successive runs of a scenario). The simulator (fleet-sim) and
-- the production node (fleetd) both record into it through sim/record.h;
-- fleet-report reads it. Everything a report shows is a query on these
-- tables.
--
-- Conventions:
--   * Times named *_ns are simulated nanoseconds since the run started
--     (fleetd: monotonic nanoseconds since the node started). INTEGER.
--   * Wall-clock durations are named wall_ns; wall-clock dates are
--     ISO-8601 UTC text ('2026-11-26T12:00:00Z').
--   * Nodes and groups are numbered per run by the driver (node_id,
--     group_id); their names are in nodes and groups. "No node" is NULL.
--   * Enumerated text columns carry a CHECK listing their values (spelled
--     with OR in client_ops and placement, the bulk of a history: there an
--     IN list would cost a temporary table per row written).
--   * A database is recognised as ours by PRAGMA application_id
--     (0x52464C54, 'RFLT'); PRAGMA user_version is the schema version.
--     Tools refuse any other database.
--
-- This file is the reference copy of the schema embedded in the recorder
-- (sim/record_schema.c); a test asserts that the two are identical. After
-- editing it, run tools/gen-schema.sh.

PRAGMA application_id = 1380338772;
PRAGMA user_version = 1;

-- runs: one row per simulated run, fuzz campaign, or fleetd session.
CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,  -- run id, referenced by every other table
  kind        TEXT NOT NULL DEFAULT 'run'
              CHECK (kind IN ('run', 'replay', 'fuzz', 'shrink', 'fleetd')),
  scenario    TEXT NOT NULL,        -- scenario file path, or fleetd cluster name
  seed        INTEGER NOT NULL,     -- master seed (fuzz: the first seed); the
                                    -- 64 bits as a signed INTEGER, so seeds
                                    -- past 2^63 read negative in SQL
  build       TEXT NOT NULL,        -- build identity: version, commit, flags
  started     TEXT NOT NULL,        -- wall-clock start, ISO-8601 UTC
  outcome     TEXT NOT NULL DEFAULT 'running'
              CHECK (outcome IN ('running', 'pass', 'fail', 'error')),
  detail      TEXT,                 -- first violation or error, NULL on pass
  trace_hash  TEXT,                 -- hex trace hash of the run, NULL until ended
  end_ns      INTEGER,              -- simulated time at which the run stopped
  wall_ns     INTEGER               -- wall-clock duration of the run
);

-- nodes: the nodes of a run and their zones. The zones of a run are the
-- distinct zone values (view zones).
CREATE TABLE nodes (
  run_id   INTEGER NOT NULL REFERENCES runs(id),
  node_id  INTEGER NOT NULL,        -- the driver's node number
  name     TEXT NOT NULL,           -- node name ('n1', 'node@host')
  zone     TEXT NOT NULL,           -- zone name ('zone1')
  PRIMARY KEY (run_id, node_id)
);

CREATE VIEW zones AS
  SELECT DISTINCT run_id, zone FROM nodes;

-- groups: the consensus groups of a run.
CREATE TABLE groups (
  run_id      INTEGER NOT NULL REFERENCES runs(id),
  group_id    INTEGER NOT NULL,     -- the driver's group number
  name        TEXT NOT NULL,        -- group name ('g1')
  replicas    INTEGER NOT NULL,     -- desired replica count
  model       TEXT NOT NULL,        -- data model name ('int', 'kv', ...)
  added_ns    INTEGER NOT NULL,     -- when the group was added
  removed_ns  INTEGER,              -- when it was removed, NULL if never
  PRIMARY KEY (run_id, group_id)
);

-- faults: every injected fault with its interval. A fault without an end
-- lasted until the run ended (end_ns NULL).
CREATE TABLE faults (
  id        INTEGER PRIMARY KEY,
  run_id    INTEGER NOT NULL REFERENCES runs(id),
  kind      TEXT NOT NULL,          -- 'partition', 'isolate', 'zone-outage',
                                    -- 'one-way', 'flapping', 'clog', 'loss',
                                    -- 'duplicate', 'reorder', 'crash', 'pause',
                                    -- 'drift', 'disk-full', 'disk-error', ...
  start_ns  INTEGER NOT NULL,       -- when the fault began
  end_ns    INTEGER,                -- when it was healed, NULL if never
  targets   TEXT NOT NULL,          -- what it hit, as written in the scenario
                                    -- ('{n1,n2} | {n3,n4}', 'zone2', 'n3')
  detail    TEXT                    -- parameters (rates, durations), or NULL
);
CREATE INDEX faults_by_run ON faults (run_id, start_ns);

-- node_events: lifecycle events of nodes. moves_min is, for add/activate/
-- deactivate/remove/purge, the number of member moves the placement function
-- requires for that event (the minimal disruption); membership changes that
-- the event caused point back at it through membership_changes.cause_id.
CREATE TABLE node_events (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id),
  t_ns       INTEGER NOT NULL,      -- when it happened
  node_id    INTEGER NOT NULL,      -- which node
  kind       TEXT NOT NULL
             CHECK (kind IN ('add', 'activate', 'deactivate', 'remove',
                             'purge', 'crash', 'restart', 'pause', 'resume')),
  moves_min  INTEGER,               -- minimal member moves, NULL if not relevant
  detail     TEXT                   -- free text, or NULL
);
CREATE INDEX node_events_by_run ON node_events (run_id, t_ns);

-- leader_changes: every change of a group's leader as the driver observed
-- it. leader_id NULL means the group has no leader from t_ns on. The leader
-- of a group at time T is the row with the greatest t_ns <= T (ties: the
-- greatest id); before its first row a group has no leader.
CREATE TABLE leader_changes (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id),
  group_id   INTEGER NOT NULL,
  t_ns       INTEGER NOT NULL,      -- when the change was observed
  term       INTEGER NOT NULL,      -- the Raft term (of the new leader, or the
                                    -- last known term when there is none)
  leader_id  INTEGER                -- node id of the new leader, NULL for none
);
CREATE INDEX leader_changes_by_group ON leader_changes (run_id, group_id, t_ns);

-- membership_changes: every single-server membership step, with its reason.
CREATE TABLE membership_changes (
  id        INTEGER PRIMARY KEY,
  run_id    INTEGER NOT NULL REFERENCES runs(id),
  group_id  INTEGER NOT NULL,
  t_ns      INTEGER NOT NULL,       -- when the change committed
  node_id   INTEGER NOT NULL,       -- the member added, promoted, removed, or
                                    -- the target of a leadership transfer
  change    TEXT NOT NULL
            CHECK (change IN ('add_learner', 'promote', 'remove', 'transfer')),
  reason    TEXT NOT NULL
            CHECK (reason IN ('bootstrap', 'placement', 'node_added',
                              'node_removed', 'purge', 'deactivate',
                              'group_added', 'group_removed', 'admin')),
  cause_id  INTEGER REFERENCES node_events(id)  -- the node event that caused
                                    -- it, NULL when none did
);
CREATE INDEX membership_changes_by_run ON membership_changes (run_id, t_ns);
CREATE INDEX membership_changes_by_cause ON membership_changes (cause_id);

-- snapshots: moments at which the placement of every group was recorded:
-- at the start, at every fault boundary and node event, and at the end.
CREATE TABLE snapshots (
  id      INTEGER PRIMARY KEY,
  run_id  INTEGER NOT NULL REFERENCES runs(id),
  t_ns    INTEGER NOT NULL,         -- when it was taken
  label   TEXT NOT NULL             -- why: 'start', 'end', 'partition starts',
                                    -- 'n3 crash', ...
);
CREATE INDEX snapshots_by_run ON snapshots (run_id, t_ns);

-- snapshot_nodes: the state of every node at a snapshot.
CREATE TABLE snapshot_nodes (
  snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
  node_id      INTEGER NOT NULL,
  state        TEXT NOT NULL
               CHECK (state IN ('up', 'down', 'paused', 'isolated',
                                'inactive', 'removed')),
  PRIMARY KEY (snapshot_id, node_id)
);

-- placement: at a snapshot, one row per (group, node) where the node is a
-- member of the group, or in the group's placement target, or both.
-- member_pos orders the member list (0 first), target_pos orders the
-- rendezvous target (0 is the desired leader).
CREATE TABLE placement (
  snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
  group_id     INTEGER NOT NULL,
  node_id      INTEGER NOT NULL,
  member_pos   INTEGER,             -- position in the member list, NULL if
                                    -- not a member
  role         TEXT                 -- 'voter' or 'learner', NULL if not a member
               CHECK (role = 'voter' OR role = 'learner'),
  is_leader    INTEGER NOT NULL DEFAULT 0,  -- 1 for the group's leader
  target_pos   INTEGER,             -- position in the target, NULL if not in it
  PRIMARY KEY (snapshot_id, group_id, node_id)
);

-- client_ops: every client operation, in the JSON-lines history's terms
-- (DESIGN.md section 5). arg and result hold JSON values as text; SQL NULL
-- stands for JSON null. Not indexed: it is the bulk of a history and is read
-- whole, by run, in id order (an index would double the cost of recording).
CREATE TABLE client_ops (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id),
  group_id   INTEGER NOT NULL,
  client     INTEGER NOT NULL,      -- client number
  kind       TEXT NOT NULL CHECK (kind = 'command' OR kind = 'query'),
  op         TEXT NOT NULL,         -- 'inc', 'set', 'get', 'put', ...
  arg        TEXT,                  -- JSON argument, NULL for null
  result     TEXT,                  -- JSON result, NULL for null or unknown
  status     TEXT NOT NULL        -- 'ok', 'fail' or 'unknown'
             CHECK (status = 'ok' OR status = 'fail' OR status = 'unknown'),
  call_ns    INTEGER NOT NULL,      -- invocation time
  return_ns  INTEGER                -- completion time, NULL when unknown
);

-- checks: the result of every checker and expectation of a run.
CREATE TABLE checks (
  id       INTEGER PRIMARY KEY,
  run_id   INTEGER NOT NULL REFERENCES runs(id),
  checker  TEXT NOT NULL,           -- 'safety', 'linearizable', 'leader within
                                    -- 5s after heal', ...
  outcome  TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'skip')),
  detail   TEXT,                    -- the violation or a measurement, or NULL
  t_ns     INTEGER                  -- when it was decided (a violation's time),
                                    -- or NULL
);
CREATE INDEX checks_by_run ON checks (run_id);

-- fuzz_seeds: one row per seed of a fuzz campaign (run of kind 'fuzz'),
-- so that trends across campaigns can be queried.
CREATE TABLE fuzz_seeds (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs(id),  -- the campaign
  seed        INTEGER NOT NULL,
  nodes       INTEGER NOT NULL,     -- nodes drawn
  zones       INTEGER NOT NULL,     -- zones drawn
  groups      INTEGER NOT NULL,     -- groups drawn
  params      TEXT NOT NULL,        -- every parameter drawn, as a JSON object
                                    -- (query with json_extract)
  outcome     TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
  detail      TEXT,                 -- failing check, or NULL
  wall_ns     INTEGER NOT NULL,     -- wall-clock time of the seed
  trace_hash  TEXT NOT NULL,        -- hex trace hash
  rerun_hash  TEXT                  -- trace hash of the determinism re-run,
                                    -- NULL when not re-run
);
CREATE INDEX fuzz_seeds_by_run ON fuzz_seeds (run_id, seed);

-- Queries (documented here; fleet-report runs these same queries).
--
-- Leader availability per group: the share of the run's simulated time
-- during which the group had a leader. Each leader_changes row opens an
-- interval that lasts until the group's next row, or until the run's end.
--
--   SELECT g.group_id, g.name,
--          COALESCE(SUM(CASE WHEN i.leader_id IS NOT NULL
--                            THEN i.until_ns - i.t_ns END), 0) * 1.0
--            / MAX(r.end_ns, 1) AS availability
--   FROM groups g
--   JOIN runs r ON r.id = g.run_id
--   LEFT JOIN (
--     SELECT run_id, group_id, t_ns, leader_id,
--            COALESCE(LEAD(t_ns) OVER (PARTITION BY run_id, group_id
--                                      ORDER BY t_ns, id),
--                     (SELECT end_ns FROM runs WHERE id = lc.run_id)) AS until_ns
--     FROM leader_changes lc
--   ) i ON i.run_id = g.run_id AND i.group_id = g.group_id
--   WHERE g.run_id = :run
--   GROUP BY g.group_id ORDER BY g.group_id;
--
-- Time to recovery after each fault: measured from the fault's end (its
-- start when it never ended) to the moment every group has a leader again.
-- Per group, that is 0 if the group has a leader at that moment, else the
-- time of its next change to a leader; the fault's recovery is the latest
-- group's. NULL means some group never recovered before the run ended.
--
--   WITH f AS (
--     SELECT id, kind, targets, start_ns, end_ns,
--            COALESCE(end_ns, start_ns) AS from_ns
--     FROM faults WHERE run_id = :run),
--   per_group AS (
--     SELECT f.id AS fault_id, g.group_id,
--            CASE WHEN (SELECT leader_id FROM leader_changes lc
--                       WHERE lc.run_id = :run AND lc.group_id = g.group_id
--                         AND lc.t_ns <= f.from_ns
--                       ORDER BY lc.t_ns DESC, lc.id DESC LIMIT 1) IS NOT NULL
--                 THEN f.from_ns
--                 ELSE (SELECT MIN(lc.t_ns) FROM leader_changes lc
--                       WHERE lc.run_id = :run AND lc.group_id = g.group_id
--                         AND lc.t_ns > f.from_ns AND lc.leader_id IS NOT NULL)
--            END AS led_ns
--     FROM f CROSS JOIN groups g WHERE g.run_id = :run)
--   SELECT f.id, f.kind, f.targets, f.start_ns, f.end_ns,
--          CASE WHEN COUNT(p.group_id) > COUNT(p.led_ns) THEN NULL
--               ELSE COALESCE(MAX(p.led_ns), f.from_ns) - f.from_ns
--          END AS recovery_ns
--   FROM f LEFT JOIN per_group p ON p.fault_id = f.id
--   GROUP BY f.id ORDER BY f.start_ns, f.id;
--
-- Member moves caused by each node event against the minimal count (a move
-- is one member placed on another node: one add_learner):
--
--   SELECT e.id, e.t_ns, e.node_id, e.kind, e.moves_min,
--          (SELECT COUNT(*) FROM membership_changes m
--           WHERE m.cause_id = e.id AND m.change = 'add_learner') AS moves
--   FROM node_events e
--   WHERE e.run_id = :run AND e.moves_min IS NOT NULL
--   ORDER BY e.t_ns, e.id;
--
-- Fuzz trends across every campaign in the database, e.g. failures and
-- time per seed by the number of zones drawn, and seeds whose determinism
-- re-run diverged:
--
--   SELECT zones, count(*) AS seeds, avg(outcome != 'pass') AS failure_rate,
--          avg(wall_ns) / 1e6 AS wall_ms
--   FROM fuzz_seeds GROUP BY zones ORDER BY zones;
--
--   SELECT run_id, seed, trace_hash, rerun_hash FROM fuzz_seeds
--   WHERE rerun_hash IS NOT NULL AND rerun_hash != trace_hash;
