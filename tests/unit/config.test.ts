import { describe, expect, it } from 'vitest';
import { loadAppConfig } from '../../src/config.js';
import { TributaryError } from '../../src/errors.js';

const CWD = '/srv/tributary';

function failureOf(env: NodeJS.ProcessEnv): TributaryError {
  try {
    loadAppConfig(env, CWD);
  } catch (err) {
    if (err instanceof TributaryError) return err;
    throw err;
  }
  throw new Error('expected loadAppConfig to throw');
}

describe('loadAppConfig', () => {
  it('applies every default, resolving paths against cwd', () => {
    expect(loadAppConfig({}, CWD)).toEqual({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: null,
      dataDir: '/srv/tributary/data',
      feedsFile: '/srv/tributary/feeds.yaml',
      logLevel: 'info',
    });
  });

  it('returns a frozen object', () => {
    const config = loadAppConfig({}, CWD);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it.each([
    { name: 'port', env: { PORT: '3000' }, expected: { port: 3000 } },
    { name: 'port zero (any free port)', env: { PORT: '0' }, expected: { port: 0 } },
    { name: 'highest port', env: { PORT: '65535' }, expected: { port: 65535 } },
    { name: 'port with spaces', env: { PORT: ' 8081 ' }, expected: { port: 8081 } },
    { name: 'host', env: { HOST: '127.0.0.1' }, expected: { host: '127.0.0.1' } },
    { name: 'IPv6 host', env: { HOST: '::' }, expected: { host: '::' } },
    {
      name: 'postgres URL',
      env: { DATABASE_URL: 'postgres://river:secret@db:5432/river' },
      expected: { databaseUrl: 'postgres://river:secret@db:5432/river' },
    },
    {
      name: 'postgresql URL',
      env: { DATABASE_URL: 'postgresql://localhost/river?sslmode=require' },
      expected: { databaseUrl: 'postgresql://localhost/river?sslmode=require' },
    },
    { name: 'relative data dir', env: { DATA_DIR: 'state' }, expected: { dataDir: '/srv/tributary/state' } },
    { name: 'absolute data dir', env: { DATA_DIR: '/var/lib/tributary' }, expected: { dataDir: '/var/lib/tributary' } },
    { name: 'relative feeds file', env: { FEEDS_FILE: '../conf/feeds.yaml' }, expected: { feedsFile: '/srv/conf/feeds.yaml' } },
    { name: 'log level', env: { LOG_LEVEL: 'debug' }, expected: { logLevel: 'debug' } },
    { name: 'log level in capitals', env: { LOG_LEVEL: 'WARN' }, expected: { logLevel: 'warn' } },
    { name: 'silent log level', env: { LOG_LEVEL: 'silent' }, expected: { logLevel: 'silent' } },
    {
      name: 'empty values count as unset',
      env: { PORT: '', HOST: '', DATABASE_URL: '', DATA_DIR: '', FEEDS_FILE: '', LOG_LEVEL: '' },
      expected: loadAppConfig({}, CWD),
    },
  ])('reads $name', ({ env, expected }) => {
    expect(loadAppConfig(env, CWD)).toMatchObject(expected);
  });

  it.each([
    { name: 'PORT not a number', env: { PORT: 'http' }, subject: 'PORT', message: 'PORT must be a whole number from 0 to 65535 (got "http")' },
    { name: 'PORT too large', env: { PORT: '65536' }, subject: 'PORT', message: 'PORT must be a whole number from 0 to 65535 (got "65536")' },
    { name: 'PORT negative', env: { PORT: '-1' }, subject: 'PORT', message: 'PORT must be a whole number from 0 to 65535 (got "-1")' },
    { name: 'PORT fractional', env: { PORT: '80.5' }, subject: 'PORT', message: 'PORT must be a whole number from 0 to 65535 (got "80.5")' },
    {
      name: 'HOST with a space',
      env: { HOST: 'local host' },
      subject: 'HOST',
      message: 'HOST must be a host name or IP address to listen on, such as 0.0.0.0 or 127.0.0.1 (got "local host")',
    },
    {
      name: 'HOST given as a URL',
      env: { HOST: 'http://localhost' },
      subject: 'HOST',
      message: 'HOST must be a host name or IP address to listen on, such as 0.0.0.0 or 127.0.0.1 (got "http://localhost")',
    },
    {
      name: 'DATABASE_URL of another database',
      env: { DATABASE_URL: 'mysql://river:hunter2@db/river' },
      subject: 'DATABASE_URL',
      message:
        'DATABASE_URL must be a postgres:// or postgresql:// URL (percent-encode special characters in the password), or unset to use the embedded database',
    },
    {
      name: 'DATABASE_URL with a bad port',
      env: { DATABASE_URL: 'postgres://db:port/river' },
      subject: 'DATABASE_URL',
      message:
        'DATABASE_URL must be a postgres:// or postgresql:// URL (percent-encode special characters in the password), or unset to use the embedded database',
    },
    {
      name: 'LOG_LEVEL unknown',
      env: { LOG_LEVEL: 'verbose' },
      subject: 'LOG_LEVEL',
      message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    },
  ])('rejects $name, naming the variable', ({ env, subject, message }) => {
    const err = failureOf(env);
    expect(err.kind).toBe('config');
    expect(err.subject).toBe(subject);
    expect(err.message).toBe(`invalid environment: ${message}`);
  });

  it.each([
    { name: 'wrong scheme', url: 'mysql://river:hunter2@db/river' },
    { name: 'unencoded # in the password', url: 'postgres://river:hunter2#x@db/river' },
  ])('never echoes the database password ($name)', ({ url }) => {
    const err = failureOf({ DATABASE_URL: url });
    expect(err.subject).toBe('DATABASE_URL');
    expect(err.message).not.toContain('hunter2');
  });

  it('names every bad variable at once, the first as subject', () => {
    const err = failureOf({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(err.subject).toBe('PORT');
    expect(err.message).toBe(
      'invalid environment: PORT must be a whole number from 0 to 65535 (got "x"); ' +
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    );
  });

  it('ignores unrelated variables', () => {
    expect(loadAppConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'production' }, CWD).port).toBe(8080);
  });
});
