#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, configWarnings, loadConfigFile } from './config/load-config.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { configReferenceMarkdown, withReference } from './config/reference.js';
import { configSchemaText } from './config/json-schema.js';
import { operatorNote } from './config/sections/operator.js';
// Each command loads only what it runs: `check-config`, `verify-model` or `token` in an init
// container or a CI step need neither the gateway nor its gRPC, Redis and tracing clients.

const USAGE = `usage: inference-gateway <command> [options]

commands:
  quickstart [--port 8080] [--admin-port 8082]
                              demo predictor + dev token issuer + gateway, no config needed
  serve --config FILE         run the gateway (environment overrides: see README)
  check-config --config FILE  print every problem in a config file; exit 1 if any
  token --sub NAME [--scope S] [--role R] [--ttl SECONDS]
                              mint a token from the running quickstart's dev issuer
  config-reference [--write docs/configuration.md]
                              print (or write into a document) the configuration reference
  config-schema [--write gateway.schema.json]
                              print (or write) the configuration's JSON Schema
  verify-model --dir DIR --manifest FILE [--key PUBLIC_KEY.pem --signature FILE]
                              check a model directory against its sha256sum manifest
                              (and the manifest's ECDSA P-256 / Ed25519 signature); exit 1 on any problem
  sign-manifest --dir DIR --manifest FILE [--key PRIVATE_KEY.pem --signature FILE [--encoding base64|raw]]
                              write the manifest of a model directory (and sign it)
  calibrate --config FILE --model NAME --requests FILE
                              compute a model's extraction calibration from recorded requests
                              (JSON lines: user, instances, predictions) and print it as config
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Stops on SIGTERM/SIGINT after draining; a second signal exits at once. */
function onShutdown(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`${signal}: draining\n`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
      'admin-port': { type: 'string' },
      sub: { type: 'string' },
      scope: { type: 'string' },
      role: { type: 'string' },
      ttl: { type: 'string' },
      write: { type: 'string' },
      dir: { type: 'string' },
      manifest: { type: 'string' },
      key: { type: 'string' },
      signature: { type: 'string' },
      encoding: { type: 'string' },
      model: { type: 'string' },
      requests: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || command === undefined || command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'check-config': {
      if (!values.config) fail('check-config needs --config FILE');
      try {
        const config = loadConfigFile(values.config);
        const warnings = configWarnings(config);
        for (const w of warnings) process.stdout.write(`${values.config}: warning: ${w.path}: ${w.message}\n`);
        process.stdout.write(
          `${values.config}: ok${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})` : ''}\n${operatorNote(config)}\n`,
        );
      } catch (err) {
        if (err instanceof ConfigError) fail(err.message, 1);
        throw err;
      }
      return;
    }
    case 'serve': {
      if (!values.config) fail('serve needs --config FILE');
      let config;
      try {
        config = loadConfigFile(values.config);
      } catch (err) {
        if (err instanceof ConfigError) fail(`refusing to start: ${err.message}`, 1);
        throw err;
      }
      const { Gateway } = await import('./gateway.js');
      const gateway = await Gateway.create(config);
      for (const w of configWarnings(config)) gateway.log.warn({ field: w.path }, `config: ${w.path} ${w.message}`);
      const { memoryPlan } = await import('./observability/memory-plan.js');
      const { warnings: memoryWarnings, ...memory } = memoryPlan(config);
      gateway.log.info({ memory }, 'memory plan');
      for (const w of memoryWarnings) gateway.log.warn({ memory: true }, `memory: ${w}`);
      const at = await gateway.listen();
      gateway.log.info(
        {
          url: at.url,
          admin: at.adminUrl,
          extAuthzHttp: at.extAuthzHttpUrl,
          extAuthzGrpc: at.extAuthzGrpcAddress,
          grpc: at.grpcAddress,
          upstream: config.upstream.url,
        },
        'inference-gateway listening',
      );
      onShutdown(() => gateway.close());
      return;
    }
    case 'quickstart': {
      const { quickstartBanner, startQuickstart } = await import('./quickstart/quickstart.js');
      const q = await startQuickstart({
        ...(values.port ? { port: Number(values.port) } : {}),
        ...(values['admin-port'] ? { adminPort: Number(values['admin-port']) } : {}),
        logLevel: 'warn',
      });
      process.stdout.write(`${quickstartBanner(q)}\n`);
      onShutdown(() => q.close());
      return;
    }
    case 'token': {
      if (!values.sub) fail('token needs --sub NAME');
      const ttl = values.ttl ? Number(values.ttl) : 3600;
      if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');
      const { mintToken, readDevIssuerState } = await import('./quickstart/dev-issuer.js');
      const state = readDevIssuerState();
      process.stdout.write(
        `${await mintToken(state, { sub: values.sub, ttlSeconds: ttl, ...(values.scope ? { scope: values.scope } : {}), ...(values.role ? { claims: { roles: [values.role] } } : {}) })}\n`,
      );
      return;
    }
    case 'config-reference': {
      if (values.write) writeFileSync(values.write, withReference(readFileSync(values.write, 'utf8')));
      else process.stdout.write(`${configReferenceMarkdown()}\n`);
      return;
    }
    case 'config-schema': {
      if (values.write) writeFileSync(values.write, configSchemaText());
      else process.stdout.write(configSchemaText());
      return;
    }
    case 'verify-model':
    case 'sign-manifest': {
      const { signManifestCommand, verifyModelCommand } = await import('./artifacts/artifact-commands.js');
      const outcome = await (command === 'verify-model' ? verifyModelCommand : signManifestCommand)(values);
      process.stdout.write(outcome.stdout);
      process.stderr.write(outcome.stderr);
      process.exitCode = outcome.code;
      return;
    }
    case 'calibrate': {
      if (!values.config) fail('calibrate needs --config FILE --model NAME --requests FILE');
      let config;
      try {
        config = loadConfigFile(values.config);
      } catch (err) {
        if (err instanceof ConfigError) fail(err.message, 1);
        throw err;
      }
      const { calibrateCommand } = await import('./extraction/calibrate-command.js');
      const outcome = calibrateCommand(config, values.model, values.requests, values.config);
      process.stdout.write(outcome.stdout);
      process.stderr.write(outcome.stderr);
      process.exitCode = outcome.code;
      return;
    }
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  fail(
    e.code === 'EADDRINUSE'
      ? `cannot listen: ${e.message} (choose another port with --port / --admin-port)`
      : `error: ${e.message ?? String(err)}`,
    1,
  );
});
