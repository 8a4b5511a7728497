// @ts-check
import js from '@eslint/js';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

const NO_PG = { name: 'pg', message: 'Only src/db imports pg: use the helpers of src/db.' };
// A feature module (src/modules/<name>/) is used through its index.ts: its other files are its own.
const MODULE_INTERNALS = 'Import a module through its index.ts (src/modules/<name>/index.ts): its other files are its internals.';

export default tseslint.config(
  // docs/examples is type-checked by test/api/docs/typed-client.test.ts, against types generated from the document.
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.data/', 'bench/results/', 'docs/examples/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.mjs', 'jest.config.ts', 'test/setup/node-builtin-import.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/db/**', 'src/http/**', 'src/modules/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [NO_PG], patterns: [{ regex: '(^|/)modules/[^/]+/(?!index$)[^/]+$', message: MODULE_INTERNALS }] }],
    },
  },
  // Inside a module: its own files freely; another module only through that module's index.ts.
  {
    files: ['src/modules/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [NO_PG], patterns: [{ regex: '^\\.\\./[a-z-]+/(?!index$)[^/]+$', message: MODULE_INTERNALS }] }],
    },
  },
  // The layers are imported in one direction: features (src/modules) use the platform (src/http) and
  // the data layer (src/db); the platform knows no feature; the data layer knows neither.
  {
    files: ['src/db/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/http', '**/http/**', '**/modules/**'], message: 'The data layer knows no HTTP and no feature: it exports typed errors and plain data.' }] },
      ],
    },
  },
  {
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [NO_PG],
          patterns: [{ group: ['**/modules/**'], message: 'The platform (src/http) imports no feature: features import the platform.' }],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Only src/config reads process.env.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/no-focused-tests': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expectApiError', 'expectNoClientInUse'] }],
      'jest/no-standalone-expect': ['error', { additionalTestBlockFunctions: ['afterEach'] }],
      // supertest bodies are untyped JSON; the assertions check their shape.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ['eslint.config.mjs'], ...tseslint.configs.disableTypeChecked },
);
