import { createPgCluster } from './pg-cluster';

export { findPgBin } from './pg-cluster';

export interface StreamingPair {
  primaryUrl: string;
  replicaUrl: string;
  stopReplica: () => void;
  startReplica: () => void;
  /** Runs SQL on the replica itself (pg_wal_replay_pause and friends). */
  onReplica: (sql: string) => Promise<void>;
  stop: () => Promise<void>;
}

/** A primary made with initdb and a streaming replica of it made with pg_basebackup -R (test/helpers/pg-cluster.ts). */
export async function startStreamingPair(bin: string): Promise<StreamingPair> {
  const cluster = await createPgCluster(bin);
  const primary = await cluster.initPrimary('primary');
  const replica = await cluster.addStandby('replica', primary);
  return {
    primaryUrl: primary.url,
    replicaUrl: replica.url,
    stopReplica: () => cluster.stop(replica),
    startReplica: () => cluster.start(replica),
    onReplica: async (sql) => {
      await cluster.sql(replica, sql);
    },
    stop: () => cluster.destroy(),
  };
}
