// The history module's public face: other modules and the app import it only from here.
export { historyRouter, recordHistoryHandler } from './history-router';
export { registerHistoryPaths } from './history-openapi';
export { pruneOldHistory, startHistoryPruning } from './history-pruning';
