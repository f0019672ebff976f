// The web console's static files (control-plane/console/dist) at /console/, beside the admin API. They hold
// no data, so no token is needed for them; every call they make goes to /api/v1 with the user's token.
// A strict Content-Security-Policy (own origin only: no inline script, no CDN) limits what an injected
// string could do in the page that holds an ops token.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NextFunction, Request, Response } from 'express';
import { printable } from './request-checks';

export const CONSOLE_PATH = '/console';

export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export const CONSOLE_NOT_BUILT = 'console not built: run npm run console:build';

function securityHeaders(_request: Request, response: Response, next: NextFunction): void {
  response.set(CONSOLE_SECURITY_HEADERS);
  next();
}

/**
 * Mounts the console on the application: `/` redirects to `/console/`, files come from `dir` (read per
 * request, so a console built after start-up is served), and while `dir` has no index.html every console
 * path answers 503 saying how to build it. Call before the app listens, so it runs ahead of the API routes.
 */
export function serveConsole(app: NestExpressApplication, dir: string): void {
  app.use((request: Request, response: Response, next: NextFunction) => {
    if (request.path === '/' && (request.method === 'GET' || request.method === 'HEAD')) response.redirect(302, `${CONSOLE_PATH}/`);
    else next();
  });
  app.use(CONSOLE_PATH, securityHeaders);
  app.useStaticAssets(dir, {
    prefix: CONSOLE_PATH,
    index: 'index.html',
    dotfiles: 'ignore',
    fallthrough: true,
    // index.html names the hashed bundles of the current build: always revalidated, so a rebuild shows at once.
    setHeaders: (response: Response, file: string) => {
      if (path.basename(file) === 'index.html') response.setHeader('Cache-Control', 'no-cache');
    },
  });
  app.use(CONSOLE_PATH, (request: Request, response: Response) => {
    const built = fs.existsSync(path.join(dir, 'index.html'));
    response
      .status(built ? 404 : 503)
      .type('text/plain')
      .send(built ? `no console file ${printable(request.path)}` : CONSOLE_NOT_BUILT);
  });
}
