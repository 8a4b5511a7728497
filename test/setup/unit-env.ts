// Unit tests never reach a database; quiet logs unless asked.
process.env.LOG_LEVEL ??= 'silent';
