import type { Config } from 'jest';

const transform: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json', diagnostics: false }],
  // The OTLP exporter's import('http'): see the file.
  '/@opentelemetry/otlp-exporter-base/.+\\.js$': '<rootDir>/test/setup/node-builtin-import.js',
};
// node_modules is not transformed, but for the one package above.
const transformIgnorePatterns = ['/node_modules/(?!@opentelemetry/otlp-exporter-base/)'];

// The generated helpers package (npm run pack:helpers) repeats the root package's name.
const modulePathIgnorePatterns = ['<rootDir>/dist/helpers-package/'];

const config: Config = {
  testTimeout: 30_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/setup/unit-env.ts'],
    },
    {
      displayName: 'api',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/api/**/*.test.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/test-database.ts'],
    },
  ],
};

export default config;
