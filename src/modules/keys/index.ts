// The keys module's public face: other modules and the app import it only from here.
export { keysRouter } from './keys-router';
export { registerKeysPaths } from './keys-openapi';
export { resolveKey, forgetKeysOf, settleKeyUses } from './keys-auth';
export { keyRateLimit } from './keys-rate-limit';
