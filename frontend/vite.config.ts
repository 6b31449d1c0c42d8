/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the APIs to the local stack's nginx, so the dev server
// and the built app use the same relative URLs (/command/..., /query/...).
const stackUrl = process.env.API_BASE_URL ?? 'https://127.0.0.1:8443';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/command': { target: stackUrl, secure: false, changeOrigin: true },
      '/query': { target: stackUrl, secure: false, changeOrigin: true, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
