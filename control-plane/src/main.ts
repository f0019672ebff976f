// Starts the control plane: migrations run, the ops consumer is bootstrapped, the catalog is synced,
// the scheduler starts, and the admin API listens.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { serveConsole } from './api/console-assets';
import { refuseMalformedRequests } from './api/request-checks';
import { AppModule } from './app.module';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  // bodyParser off: the API takes JSON only, parsed once below (no form parser building nested objects).
  const app = await NestFactory.create<NestExpressApplication>(AppModule.with(config), { logger: ['log', 'warn', 'error'], bodyParser: false });
  app.enableShutdownHooks();
  // Strings, or arrays for repeated names (refused below); never qs's nested objects from `a[b]=c`.
  app.set('query parser', 'simple');
  // inflate off: compressed bodies get 415, not a 500 from a broken gzip stream (admin bodies are small).
  app.useBodyParser('json', { limit: '5mb', inflate: false });
  app.use(refuseMalformedRequests);
  serveConsole(app, config.consoleDir);
  await app.listen(config.port, config.host);
  new Logger('control-plane').log(
    `admin API on http://${config.host}:${config.port}/api/v1 (OpenAPI: /api/openapi.json), console on http://${config.host}:${config.port}/console/`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`control plane failed to start: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
