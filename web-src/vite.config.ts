import { defineConfig } from "vite";

// The Python app serves the build output at /app/ (see src/reelstack/web/).
export default defineConfig({
  base: "/app/",
  build: {
    outDir: "../src/reelstack/web",
    // outDir lies outside the Vite root, so emptying it must be explicit.
    emptyOutDir: true,
    // Shaka's compiled build is already minified (~830 kB) and is most of the
    // bundle; its map would only inflate the Python package.
    sourcemap: false,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    // `npm run dev` talks to a locally running API on the default port.
    proxy: {
      "/v1": "http://127.0.0.1:8000",
      "/media": "http://127.0.0.1:8000",
      "/oauth": "http://127.0.0.1:8000",
      "/.well-known": "http://127.0.0.1:8000",
    },
  },
});
