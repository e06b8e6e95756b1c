/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The UI is served by chatcore-server from the same origin in production.
// In development, Vite proxies the API routes to a locally running server.
const target = process.env.CHATCORE_API ?? 'http://127.0.0.1:8000';

function spaPage(req: { method?: string; headers: { accept?: string } }): string | undefined {
  return req.method === 'GET' && req.headers.accept?.includes('text/html') ? '/index.html' : undefined;
}

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      // /auth/login, /auth/register, /chat and /chat/:id are also SPA routes:
      // page loads (Accept: text/html) get index.html, API calls go to the server.
      '/auth': { target, changeOrigin: false, bypass: spaPage },
      '/chat': { target, changeOrigin: false, bypass: spaPage },
      '/ws': { target, ws: true, changeOrigin: false },
      '/health': { target, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
    rolldownOptions: {
      output: {
        // Keep the Markdown + highlight.js stack out of the app chunk.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|react-router|scheduler|cookie)[\\/]/ },
            { name: 'highlight', test: /node_modules[\\/](highlight\.js|lowlight)[\\/]/ },
            { name: 'markdown', test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
