/* Service worker of the scan page. scan.js registers it from /scan/sw.js?v=VERSION with the
   scope /scan. It keeps the page, its stylesheet and its script so that the page reloads
   without a connection. It never sends scans: the page keeps them and sends them itself. */
"use strict";

// VERSION is a hash of the cached files, so a changed file installs a new worker and cache.
const VERSION = new URL(self.location.href).searchParams.get("v") || "unversioned";
const CACHE_PREFIX = "inventory-scan-";
const CACHE = CACHE_PREFIX + VERSION;
const PAGE = "/scan";
const ASSETS = ["/static/pages.css", "/static/scan.js"];
// On poor Wi-Fi the cached copy of the page is shown after this long instead of waiting on.
const PAGE_TIMEOUT_MS = 4000;

async function fetchFresh(path) {
  const response = await fetch(path, { cache: "reload", credentials: "same-origin" });
  if (!response.ok || response.redirected) {
    throw new Error(`GET ${path} returned ${response.status}`);
  }
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const path of ASSETS) {
        await cache.put(path, await fetchFresh(path));
      }
      try {
        await cache.put(PAGE, await fetchFresh(PAGE));
      } catch (error) {
        // Signed out meanwhile: the page is cached the next time it loads from the network.
        console.warn("scan page not cached at install:", error);
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

function timeout(milliseconds) {
  return new Promise((_resolve, reject) => {
    setTimeout(() => reject(new Error("timed out")), milliseconds);
  });
}

// The network comes first, so a signed-out user is sent to sign in and a new version shows
// at once. The cached copy is used when the network fails or is too slow, or the server fails.
async function pageResponse(request) {
  const cache = await caches.open(CACHE);
  const network = fetch(request).then(async (response) => {
    if (response.ok && response.type === "basic" && !response.redirected) {
      await cache.put(PAGE, response.clone());
    }
    return response;
  });
  network.catch(() => undefined);
  try {
    const response = await Promise.race([network, timeout(PAGE_TIMEOUT_MS)]);
    if (response.status < 500) {
      return response;
    }
  } catch (error) {
    // Offline or too slow: fall through to the cached copy.
  }
  const cached = await cache.match(PAGE);
  return cached || network;
}

async function assetResponse(request, path) {
  const cached = await caches.match(path, { cacheName: CACHE });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(pageResponse(request));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(assetResponse(request, url.pathname));
  }
});
