// ESLint (flat config): typescript-eslint's recommended, type-aware rules for lib/, tests and
// benchmarks. Formatting is prettier's job (`npm run format:check`), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'prebuilds/', 'node_modules/', 'docs/api/', 'coverage/', 'bench/.scale-*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A forgotten await on a netlink call is a silent leak or a race: always an error.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      // A callback made before the variable it reads is assigned (a socket created with a handler
      // that calls back into the object being built) needs `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-console': 'error',
    },
  },
  {
    // The product never depends on the test rig (testing/: guest builder, benchmarks, demo);
    // only the command's front-ends load it, lazily, for `vmplumb demo` and `bench`.
    files: ['lib/**'],
    ignores: ['lib/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/testing/*', '**/testing/**'], message: 'lib/ (the product) must not import testing/ (the test rig)' }] },
      ],
    },
  },
  {
    // Commands, benchmarks, tests and examples talk to a terminal.
    files: ['lib/cli/**', 'lib/cli.ts', 'testing/**', 'bench/**', 'test/**', 'examples/**', 'scripts/**'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly', setImmediate: 'readonly', setTimeout: 'readonly' },
    },
  },
);
