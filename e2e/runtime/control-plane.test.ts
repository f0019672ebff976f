// The runtime passes the control plane every setting from the topology, and the control plane's own
// defaults (for runs by hand) are the same mesh: neither side can drift without this failing.
import { expect } from 'chai';
import { ControlPlaneConfig, loadConfig } from '../../control-plane/src/config';
import { controlPlaneEnvironment } from './control-plane';

/** loadConfig() with no MESH_* variable but the given ones (the caller's environment restored after). */
function configWith(vars: Record<string, string>): ControlPlaneConfig {
  const saved = { ...process.env };
  try {
    for (const name of Object.keys(process.env)) if (name.startsWith('MESH_')) delete process.env[name];
    Object.assign(process.env, vars);
    return loadConfig();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** The variables that move the local mesh; a control plane started by hand honours them too. */
function meshLocation(): Record<string, string> {
  const names = ['MESH_HOME', 'MESH_PG_PORT', 'MESH_TRINO_PORT', 'MESH_CP_PORT', 'MESH_GATEWAY_PORT'];
  return Object.fromEntries(names.filter((n) => process.env[n]).map((n) => [n, process.env[n]!]));
}

describe('control plane settings', () => {
  it('the control plane reads every variable the runtime passes (none is misspelt or ignored)', () => {
    const passed = controlPlaneEnvironment();
    const baseline = JSON.stringify(configWith(passed));
    // MESH_HOME is the base of the defaults; every path beneath it is passed on its own as well.
    for (const [name, value] of Object.entries(passed).filter(([n]) => n !== 'MESH_HOME')) {
      const changed = /_PORT$/.test(name) ? String(Number(value) + 1) : `${value}-changed`;
      expect(JSON.stringify(configWith({ ...passed, [name]: changed })), `${name} changes the configuration`).to.not.equal(baseline);
    }
  });

  it("the control plane's own defaults are the mesh the runtime starts", () => {
    expect(configWith(meshLocation())).to.deep.equal(configWith(controlPlaneEnvironment()));
  });

  it('a port that is not one is refused, naming the variable', () => {
    expect(() => configWith({ MESH_CP_PORT: '81x0' })).to.throw("MESH_CP_PORT must be a TCP port (1-65535), not '81x0'");
    expect(() => configWith({ MESH_PG_PORT: '70000' })).to.throw(/MESH_PG_PORT must be a TCP port/);
  });
});
