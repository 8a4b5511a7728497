// The users module's public face: other modules and the app import it only from here.
export { usersRouter } from './users-router';
export { registerUsersPaths } from './users-openapi';
export { DEFAULT_ADMIN_EMAIL, ensureAdmin } from './users-bootstrap';
export { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from './users-password';
export { findPasswordHash, findUserById, findUserCredentialsByEmail, type User } from './users-repository';
export { setPassword, upgradePasswordHash } from './users-service';
export { UserSchema } from './users-schemas';
