// The sessions module's public face: other modules and the app import it only from here.
export { resolveCurrentUser, forgetCurrentUser } from './sessions-current-user';
export { openSession, refreshSession, endSession, endUserSessions, listSessions, type IssuedSession, type RefreshRefusal } from './sessions-service';
export { startSessionPruning } from './sessions-pruning';
export { REFRESH_TOKEN } from './sessions-refresh-tokens';
export { REFRESH_GRACE_SECONDS } from './sessions-repository';
export { SessionSchema, type SessionSummary } from './sessions-schemas';
