import { parseStatement } from './src/gateway/sql/trino-parser';
import { findRelations } from './src/gateway/sql/relations';
for (const n of [100, 300, 1000, 3000, 20000]) {
  const sql = `SELECT ${'('.repeat(n)}1${')'.repeat(n)}`;
  const t = Date.now();
  try { const p = parseStatement(sql); const t2 = Date.now(); findRelations(p); console.log(n, 'parsed', t2 - t, 'relations', Date.now() - t2); }
  catch (e) { console.log(n, Date.now() - t, 'ms', (e as Error).constructor.name, (e as Error).message.slice(0, 100), (e as Error).stack?.split('\n').slice(1, 6).join(' | ')); }
}
