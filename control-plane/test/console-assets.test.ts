import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { expect } from 'chai';
import { CONSOLE_NOT_BUILT, CONSOLE_SECURITY_HEADERS, serveConsole } from '../src/api/console-assets';

@Controller('api/v1')
class PingController {
  @Get('ping') ping() {
    return { pong: true };
  }
}
@Module({ controllers: [PingController] })
class PingModule {}

/** A Nest application serving the console from `dir` beside one API route, on a free port. */
async function appServing(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const app = await NestFactory.create<NestExpressApplication>(PingModule, { logger: false });
  serveConsole(app, dir);
  await app.listen(0, '127.0.0.1');
  return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), close: () => app.close() };
}

const get = (url: string) => fetch(url, { redirect: 'manual' });

describe('console static files', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-dist-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('while not built: 503 saying how to build it, with the security headers; the API answers as before', async () => {
    const app = await appServing(path.join(dir, 'missing'));
    try {
      const response = await get(`${app.url}/console/`);
      expect(response.status).to.equal(503);
      expect(await response.text()).to.equal(CONSOLE_NOT_BUILT);
      expect(response.headers.get('content-security-policy')).to.equal(CONSOLE_SECURITY_HEADERS['Content-Security-Policy']);
      expect((await get(`${app.url}/console/assets/app.js`)).status).to.equal(503);
      expect(await (await get(`${app.url}/api/v1/ping`)).json()).to.deep.equal({ pong: true });
    } finally {
      await app.close();
    }
  });

  it('built: index.html at /console/, assets with their types, strict CSP and nosniff; / redirects; missing files 404', async () => {
    fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>FHIR mesh</title><script type="module" src="/console/assets/app.js"></script>');
    fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1);');
    const app = await appServing(dir);
    try {
      const index = await get(`${app.url}/console/`);
      expect(index.status).to.equal(200);
      expect(index.headers.get('content-type')).to.match(/^text\/html/);
      expect(await index.text()).to.include('<title>FHIR mesh</title>');
      for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) expect(index.headers.get(name), name).to.equal(value);
      const csp = index.headers.get('content-security-policy')!;
      expect(csp).to.include("default-src 'self'").and.include("script-src 'self'").and.include("frame-ancestors 'none'");
      expect(csp).to.not.include('unsafe-inline').and.not.include('unsafe-eval').and.not.include('http');
      expect(index.headers.get('cache-control')).to.equal('no-cache');

      const script = await get(`${app.url}/console/assets/app.js`);
      expect(script.status).to.equal(200);
      expect(script.headers.get('content-type')).to.match(/javascript/);
      expect(script.headers.get('x-content-type-options')).to.equal('nosniff');

      const root = await get(`${app.url}/`);
      expect(root.status).to.equal(302);
      expect(root.headers.get('location')).to.equal('/console/');

      const missing = await get(`${app.url}/console/nope.js`);
      expect(missing.status).to.equal(404);
      expect(missing.headers.get('x-frame-options')).to.equal('DENY');
      // Dot files and paths out of the folder are never served.
      fs.writeFileSync(path.join(dir, '.env'), 'SECRET=1');
      expect((await get(`${app.url}/console/.env`)).status).to.equal(404);
      expect((await get(`${app.url}/console/..%2f..%2fetc%2fpasswd`)).status).to.be.oneOf([400, 403, 404]);
      expect((await get(`${app.url}/api/v1/ping`)).status).to.equal(200);
      expect((await get(`${app.url}/api/v1/ping`)).headers.get('content-security-policy')).to.equal(null);
    } finally {
      await app.close();
    }
  });
});
