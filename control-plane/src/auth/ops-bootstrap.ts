// First start: with no ops consumer there is nobody who could create one, so the control plane creates
// `ops` with a token from MESH_OPS_TOKEN, or a random one written to a 0600 file. The token is never logged.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Consumer } from '../registry/consumer.entity';
import { newToken, tokenHash } from './tokens';

export async function bootstrapOps(db: DataSource, audit: AuditService, tokenFile: string): Promise<void> {
  const log = new Logger('bootstrap');
  const fromEnv = process.env.MESH_OPS_TOKEN;
  await db.transaction(async (tx) => {
    await tx.query('lock table consumers in share row exclusive mode');
    const ops = await tx.query(`select name from consumers where 'ops' = any (roles) limit 1`);
    if (ops.length > 0) return;
    const token = fromEnv || (fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : newToken());
    const consumer = await tx.getRepository(Consumer).save(
      tx.getRepository(Consumer).create({
        name: 'ops',
        kind: 'user',
        teamId: null,
        roles: ['ops'],
        domainId: null,
        allowedPurposes: [],
        policies: {},
        budgetEpsilon: null,
        budgetPeriod: 'month',
        tokenHash: tokenHash(token),
      }),
    );
    await audit.record(tx, {
      actor: 'control-plane',
      action: 'bootstrap',
      entity: 'consumer',
      entityId: consumer.name,
      after: { name: 'ops', roles: ['ops'] },
    });
    if (!fromEnv) {
      fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
      fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      log.log(`created consumer 'ops'; its API token is in ${tokenFile}`);
    } else {
      log.log(`created consumer 'ops' with the token from MESH_OPS_TOKEN`);
    }
  });
}
