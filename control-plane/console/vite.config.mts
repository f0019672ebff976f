// The console's build: a static bundle the control plane serves at /console/ under a strict CSP
// (default-src 'self'), so nothing may be inlined (no data: assets, no inline scripts or styles).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The control plane a dev server (`vite control-plane/console`) forwards API calls to. */
const CONTROL_PLANE = process.env.MESH_CONSOLE_API ?? 'http://127.0.0.1:8170';
const proxy = { '/api': CONTROL_PLANE, '/metrics': CONTROL_PLANE };

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy },
  preview: { proxy },
});
