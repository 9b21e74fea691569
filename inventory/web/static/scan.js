/* Scan sessions (templates/scan.html): one action applied to tag after tag.

   Every scan is first written to localStorage with an idempotency key made here, then sent
   to POST /scan/apply one at a time, oldest first. A scan whose request fails on the network
   stays "waiting" and is sent again with the same key when the browser reports that it is
   online, on a retry timer, or when the page is opened again. The server applies a key once
   and returns its first response to a retry, so a lost response does not apply a scan twice.
   A service worker (scan-sw.js) keeps the page itself so it reloads offline. */
(() => {
  "use strict";

  const STORAGE_KEY = "inventory.scan.v1";
  const OPTIONS_KEY = "inventory.scan.options.v1";
  // Finished scans beyond this many are dropped from the phone, oldest first; waiting scans
  // are always kept. About 400 bytes each, well inside the usual 5 MB of localStorage.
  const MAX_KEPT_SCANS = 5000;
  const REQUEST_TIMEOUT_MS = 20000;
  const RETRY_FIRST_MS = 2000;
  const RETRY_MAX_MS = 60000;
  // The camera reads a label many times a second; the same text within this time is one scan.
  const CAMERA_REPEAT_MS = 3000;
  const CAMERA_INTERVAL_MS = 200;
  const SCAN_ACTIONS = ["collect", "transfer", "audit_seen"];
  const STATUS_LABELS = {
    waiting: "Waiting",
    sending: "Sending",
    done: "Done",
    failed: "Failed",
    duplicate: "Duplicate",
  };

  const app = document.getElementById("scan-app");
  if (!app) {
    return;
  }
  const byId = (id) => document.getElementById(id);
  const config = {
    csrfToken: app.dataset.csrfToken,
    user: app.dataset.user,
    isAdmin: app.dataset.admin === "true",
    serviceWorker: app.dataset.serviceWorker,
    stateLabels: JSON.parse(app.dataset.stateLabels || "{}"),
    actionLabels: JSON.parse(app.dataset.actionLabels || "{}"),
  };
  const ui = {
    storageError: byId("scan-storage-error"),
    setup: byId("scan-setup"),
    setupError: byId("scan-setup-error"),
    setupWaiting: byId("scan-setup-waiting"),
    site: byId("scan-site"),
    siteLabel: byId("scan-site-label"),
    siteOptional: byId("scan-site-optional"),
    siteHint: byId("scan-site-hint"),
    roomField: byId("scan-room-field"),
    room: byId("scan-room"),
    technician: byId("scan-technician"),
    session: byId("scan-session"),
    heading: byId("scan-session-heading"),
    details: byId("scan-session-details"),
    end: byId("scan-end"),
    counts: {
      done: byId("scan-count-done"),
      failed: byId("scan-count-failed"),
      waiting: byId("scan-count-waiting"),
      duplicate: byId("scan-count-duplicate"),
    },
    connection: byId("scan-connection"),
    paused: byId("scan-paused"),
    pausedText: byId("scan-paused-text"),
    resume: byId("scan-resume"),
    form: byId("scan-form"),
    input: byId("scan-input"),
    scannerMode: byId("scan-scanner-mode"),
    cameraToggle: byId("scan-camera-toggle"),
    cameraNote: byId("scan-camera-note"),
    cameraView: byId("scan-camera-view"),
    announcer: byId("scan-announcer"),
    list: byId("scan-list"),
  };

  /* ---- Values ---- */

  function newKey() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      return crypto.randomUUID();
    }
    // crypto.randomUUID exists only in secure contexts (HTTPS or loopback); build the same
    // random version 4 UUID from getRandomValues, which exists everywhere.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    return [
      hex.slice(0, 8),
      hex.slice(8, 12),
      hex.slice(12, 16),
      hex.slice(16, 20),
      hex.slice(20),
    ].join("-");
  }

  // The service trims asset tags and applies Unicode NFKC, so a duplicate is found the same way.
  function normalizeTag(text) {
    return text.normalize("NFKC").trim();
  }

  // A label's QR code contains {base_url}/a/{percent-encoded tag}. Other text is a typed tag.
  // The server reduces a URL the same way (inventory/web/scan.py, tag_from_scan).
  function tagFromScan(text) {
    const value = text.trim();
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      return { tag: normalizeTag(value) };
    }
    let url;
    try {
      url = new URL(value);
    } catch (error) {
      return { error: `Not an asset label: ${value}` };
    }
    const match = /\/a\/([^/]+)\/?$/.exec(url.pathname);
    if (!match) {
      return { error: `Not an asset label: ${value}` };
    }
    try {
      return { tag: normalizeTag(decodeURIComponent(match[1])) };
    } catch (error) {
      return { error: `The label's asset tag is not valid percent-encoding: ${match[1]}` };
    }
  }

  function stateLabel(state) {
    return config.stateLabels[state] || state;
  }

  function actionLabel(action) {
    return config.actionLabels[action] || action;
  }

  function clockTime(milliseconds) {
    return new Date(milliseconds).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  /* ---- Storage: the session and every scan, kept on the phone ---- */

  function emptyStore() {
    return { version: 1, session: null, scans: [] };
  }

  function loadStore() {
    try {
      const stored = JSON.parse(localStorage.getItem(STORAGE_KEY));
      if (stored && stored.version === 1 && Array.isArray(stored.scans)) {
        return stored;
      }
    } catch (error) {
      console.warn("stored scans could not be read:", error);
    }
    return emptyStore();
  }

  let store = loadStore();

  function saveStore() {
    const finished = store.scans.filter((scan) => scan.status !== "waiting").length;
    let excess = store.scans.length - MAX_KEPT_SCANS;
    if (excess > 0 && finished > 0) {
      store.scans = store.scans.filter((scan) => {
        if (excess > 0 && scan.status !== "waiting") {
          excess -= 1;
          return false;
        }
        return true;
      });
    }
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(store));
      ui.storageError.hidden = true;
      return true;
    } catch (error) {
      ui.storageError.textContent =
        `Scans cannot be kept on this phone (${error.message}). Stay online: a scan that ` +
        "is not sent yet is lost if this page closes.";
      ui.storageError.hidden = false;
      return false;
    }
  }

  function findScan(key) {
    return store.scans.find((scan) => scan.key === key);
  }

  function updateScan(key, changes) {
    const scan = findScan(key);
    if (scan) {
      Object.assign(scan, changes);
      saveStore();
      renderScan(scan);
    }
    renderStatus();
    return scan;
  }

  function loadOptions() {
    try {
      return JSON.parse(localStorage.getItem(OPTIONS_KEY)) || {};
    } catch (error) {
      return {};
    }
  }

  function saveOptions(options) {
    try {
      localStorage.setItem(OPTIONS_KEY, JSON.stringify(options));
    } catch (error) {
      console.warn("scan options not saved:", error);
    }
  }

  /* ---- Session setup ---- */

  function selectedAction() {
    const checked = ui.setup.querySelector('input[name="action"]:checked');
    return checked ? checked.value : "collect";
  }

  function applyPrefill() {
    const params = new URLSearchParams(window.location.search);
    const action = params.get("action");
    if (SCAN_ACTIONS.includes(action)) {
      ui.setup.querySelector(`input[name="action"][value="${action}"]`).checked = true;
    }
    ui.site.value = params.get("site") || "";
    ui.room.value = params.get("room") || "";
  }

  function updateSetupFields() {
    const action = selectedAction();
    const transfer = action === "transfer";
    ui.siteLabel.textContent = transfer ? "Destination site code" : "Site you are at";
    ui.siteOptional.hidden = transfer;
    ui.site.required = transfer;
    ui.siteHint.textContent = transfer
      ? "Every scanned device moves to this site."
      : "Devices recorded at another site are flagged.";
    ui.roomField.hidden = action !== "audit_seen";
  }

  function showSetupError(message) {
    ui.setupError.textContent = message;
    ui.setupError.hidden = !message;
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (error) {
      return null;
    }
  }

  async function fetchWithTimeout(url, options) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        ...options,
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function startSession(event) {
    event.preventDefault();
    showSetupError("");
    const action = selectedAction();
    const site = ui.site.value.trim();
    const room = action === "audit_seen" ? ui.room.value.trim() : "";
    const technician = ui.technician ? ui.technician.value.trim() : "";

    if (action === "transfer" && !site) {
      showSetupError("Enter the destination site code.");
      return;
    }
    if (config.isAdmin && !technician) {
      showSetupError("Enter the employee number of the technician who handles the devices.");
      return;
    }
    const session = {
      id: newKey(),
      action,
      site: site || null,
      siteName: null,
      room: room || null,
      technician: technician || null,
      technicianName: null,
      user: config.user,
      startedAt: Date.now(),
      checked: false,
      count: 0,
    };

    const button = ui.setup.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const query = new URLSearchParams({ action });
      if (site) {
        query.set("site", site);
      }
      if (technician) {
        query.set("technician", technician);
      }
      const response = await fetchWithTimeout(`/scan/check?${query}`, {
        headers: { Accept: "application/json" },
      });
      const payload = await readJson(response);
      if (response.status === 401) {
        showSetupError("You are signed out. Sign in again, then start the session.");
        return;
      }
      if (!response.ok && response.status < 500) {
        showSetupError(payload ? payload.detail : `The check failed (HTTP ${response.status}).`);
        return;
      }
      if (response.ok && payload) {
        if (payload.site) {
          session.site = payload.site.code;
          session.siteName = payload.site.name;
        }
        if (payload.technician) {
          session.technicianName = payload.technician.name;
        }
        session.checked = true;
      }
    } catch (error) {
      // Offline: the session starts unchecked, and each scan is checked when it is sent.
    } finally {
      button.disabled = false;
    }

    store.session = session;
    saveStore();
    showSession();
  }

  function endSession() {
    const waiting = store.scans.filter((scan) => scan.status === "waiting").length;
    if (
      waiting > 0 &&
      !window.confirm(
        `${waiting} scan(s) are not sent yet. They stay on this phone and are sent when the ` +
          "connection allows. End the session?",
      )
    ) {
      return;
    }
    stopCamera();
    store.session = null;
    store.scans = store.scans.filter((scan) => scan.status === "waiting");
    saveStore();
    applyPrefill();
    updateSetupFields();
    renderAll();
  }

  function sessionTitle(session) {
    const site = session.site ? `${session.site}${session.siteName ? " " + session.siteName : ""}` : "";
    if (session.action === "transfer") {
      return `Transfer to ${site}`;
    }
    const parts = [actionLabel(session.action)];
    if (session.room) {
      parts.push(`room ${session.room}`);
    }
    if (site) {
      parts.push(`at ${site}`);
    }
    return parts.join(" · ");
  }

  function sessionDetails(session) {
    const parts = [`Signed in as ${config.user}`];
    if (session.technician) {
      const name = session.technicianName ? ` ${session.technicianName}` : "";
      parts.push(`technician ${session.technician}${name}`);
    }
    parts.push(`started ${clockTime(session.startedAt)}`);
    if (!session.checked) {
      parts.push("settings not checked yet (offline); each scan is checked when it is sent");
    }
    return parts.join(" · ");
  }

  function showSession() {
    const session = store.session;
    ui.setup.hidden = Boolean(session);
    ui.session.hidden = !session;
    if (!session) {
      const waiting = store.scans.filter((scan) => scan.status === "waiting").length;
      ui.setupWaiting.hidden = waiting === 0;
      ui.setupWaiting.textContent = `${waiting} scan(s) of an earlier session are waiting to be sent.`;
      return;
    }
    ui.heading.textContent = sessionTitle(session);
    ui.details.textContent = sessionDetails(session);
    ui.input.focus({ preventScroll: true });
  }

  /* ---- Scans ---- */

  function handleScan(text) {
    const session = store.session;
    if (!session || !text.trim()) {
      return;
    }
    session.count = (session.count || 0) + 1;
    const parsed = tagFromScan(text);
    const scan = {
      key: newKey(),
      number: session.count,
      tag: parsed.tag || text.trim(),
      action: session.action,
      data: {},
      technician: session.technician,
      user: session.user,
      sessionId: session.id,
      expectedSite: session.action === "transfer" ? null : session.site,
      scannedAt: Date.now(),
      status: "waiting",
      headline: "",
      detail: "",
    };

    if (session.action === "transfer") {
      scan.data.site = session.site;
    } else if (session.action === "audit_seen" && session.room) {
      scan.data.room = session.room;
    }
    if (parsed.error) {
      scan.status = "failed";
      scan.headline = "Not an asset label";
      scan.detail = parsed.error;
    } else {
      // A tag already done or waiting in this session is flagged, not applied again. A tag
      // whose earlier scan failed is sent again, since the failure changed nothing.
      const earlier = store.scans.find(
        (other) =>
          other.sessionId === session.id &&
          other.tag === scan.tag &&
          (other.status === "waiting" || other.status === "done"),
      );
      if (earlier) {
        scan.status = "duplicate";
        scan.headline = `Already scanned in this session (#${earlier.number}, ${STATUS_LABELS[earlier.status].toLowerCase()})`;
      }
    }

    store.scans.push(scan);
    saveStore();
    renderScan(scan);
    renderStatus();
    if (scan.status !== "waiting") {
      announce(scan);
      signal(false);
    }
    pump();
  }

  /* ---- Sending ---- */

  let pumping = false;
  let sendingKey = null;
  let retryTimer = null;
  let retryDelay = RETRY_FIRST_MS;
  let retryReason = "";
  let pausedReason = "";
  let tokenRefreshed = false;

  function scheduleRetry(reason) {
    retryReason = reason;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      pump();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
    renderStatus();
  }

  function pauseSending(reason) {
    pausedReason = reason;
    clearTimeout(retryTimer);
    retryTimer = null;
    renderStatus();
  }

  function resumeSending() {
    pausedReason = "";
    tokenRefreshed = false;
    retryDelay = RETRY_FIRST_MS;
    clearTimeout(retryTimer);
    retryTimer = null;
    renderStatus();
    pump();
  }

  function nextToSend() {
    return store.scans.find((scan) => scan.status === "waiting" && scan.user === config.user);
  }

  async function pump() {
    if (pumping || pausedReason) {
      return;
    }
    pumping = true;
    try {
      for (let scan = nextToSend(); scan; scan = nextToSend()) {
        if (navigator.onLine === false) {
          scheduleRetry("offline");
          break;
        }
        const outcome = await send(scan);
        if (outcome !== "sent") {
          break;
        }
        retryDelay = RETRY_FIRST_MS;
        retryReason = "";
        tokenRefreshed = false;
      }
    } finally {
      pumping = false;
      renderStatus();
    }
  }

  async function refreshCsrfToken() {
    // GET /scan hands out a CSRF cookie and the matching token when the cookie is gone.
    try {
      const response = await fetchWithTimeout("/scan", { headers: { Accept: "text/html" } });
      if (!response.ok || response.redirected) {
        return false;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("scan-app");
      if (!fresh || !fresh.dataset.csrfToken) {
        return false;
      }
      config.csrfToken = fresh.dataset.csrfToken;
      return true;
    } catch (error) {
      return false;
    }
  }

  function requestBody(scan) {
    const body = {
      asset_tag: scan.tag,
      action: scan.action,
      data: scan.data,
      idempotency_key: scan.key,
      scanned_by: scan.user,
      seconds_since_scan: Math.max(0, (Date.now() - scan.scannedAt) / 1000),
    };
    if (scan.technician) {
      body.technician = scan.technician;
    }
    return body;
  }

  // Returns "sent" when the scan got its final response, "retry" when it stays waiting for
  // the retry timer, and "paused" when sending waits for the user (signed out, say).
  async function send(scan) {
    sendingKey = scan.key;
    renderScan(scan);
    let response;
    try {
      response = await fetchWithTimeout("/scan/apply", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": config.csrfToken,
        },
        body: JSON.stringify(requestBody(scan)),
      });
    } catch (error) {
      // No connection, or the request timed out. The server may have applied it all the
      // same, so the retry carries the same key and gets the first response back.
      sendingKey = null;
      updateScan(scan.key, { attempts: (scan.attempts || 0) + 1 });
      scheduleRetry(error.name === "AbortError" ? "the request timed out" : "no connection");
      return "retry";
    }
    sendingKey = null;

    const payload = await readJson(response);
    if (response.ok && payload) {
      finishDone(scan, payload);
      return "sent";
    }
    const detail = payload && payload.detail ? payload.detail : `HTTP ${response.status}`;
    if (response.status === 403 && detail.includes("CSRF") && !tokenRefreshed) {
      tokenRefreshed = true;
      if (await refreshCsrfToken()) {
        return send(scan);
      }
    }
    if (response.status === 401) {
      renderScan(scan);
      pauseSending("You are signed out, so scans are not being sent. Sign in, then come back here.");
      return "paused";
    }
    if (response.status === 403) {
      renderScan(scan);
      pauseSending(`Scans are not being sent: ${detail}`);
      return "paused";
    }
    if (response.status >= 500 || response.status === 408 || response.status === 429 || !payload) {
      updateScan(scan.key, { attempts: (scan.attempts || 0) + 1 });
      scheduleRetry(`the server answered: ${detail}`);
      return "retry";
    }
    finishFailed(scan, response.status, payload);
    return "sent";
  }

  function finishDone(scan, result) {
    const changes = {
      status: "done",
      tag: result.asset_tag,
      state: result.state,
      headline: result.state_label,
      site: result.site,
      siteName: result.site_name,
      detail: "",
    };
    if (scan.expectedSite && result.site !== scan.expectedSite) {
      changes.detail = `Recorded at site ${result.site} ${result.site_name}, not ${scan.expectedSite}.`;
    }
    const updated = updateScan(scan.key, changes) || scan;
    announce(updated);
    signal(true);
  }

  function failureHeadline(status, payload, scan) {
    const extra = (payload && payload.extra) || {};
    if (status === 404) {
      return "Unknown asset tag";
    }
    if (status === 409 && extra.current_state) {
      const state = stateLabel(extra.current_state);
      if (scan.action === "collect" && extra.current_state === "enrolled") {
        return `Already in stock: the device is ${state}`;
      }
      return `Not allowed: the device is ${state}`;
    }
    const fields = extra.fields || {};
    if (status === 422 && typeof fields.site === "string" && fields.site.includes("already at")) {
      return "Already at that site";
    }
    if (status === 400) {
      return "Invalid scan";
    }
    return "Not applied";
  }

  // The message of an error response, with the field errors a 400 lists in extra.errors.
  function errorText(status, payload) {
    const problems = ((payload.extra && payload.extra.errors) || [])
      .filter((problem) => problem && problem.message)
      .map((problem) => (problem.key ? `${problem.key}: ${problem.message}` : problem.message));
    const detail = payload.detail || `HTTP ${status}`;
    return problems.length ? `${detail}: ${problems.join("; ")}` : detail;
  }

  function finishFailed(scan, status, payload) {
    const updated =
      updateScan(scan.key, {
        status: "failed",
        headline: failureHeadline(status, payload, scan),
        detail: errorText(status, payload),
      }) || scan;
    announce(updated);
    signal(false);
  }

  /* ---- Feedback ---- */

  function announce(scan) {
    ui.announcer.textContent = `${scan.tag}: ${STATUS_LABELS[scan.status]}. ${scan.headline || ""}`;
  }

  function signal(ok) {
    if (typeof navigator.vibrate === "function") {
      navigator.vibrate(ok ? 40 : [150, 80, 150]);
    }
  }

  /* ---- Rendering ---- */

  const rows = new Map();

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function buildRow(scan) {
    const status = scan.key === sendingKey ? "sending" : scan.status;
    const row = element("li", `scan scan-${status}`);
    row.dataset.key = scan.key;
    row.dataset.status = status;
    const line = element("div", "scan-line");
    line.append(
      element("span", "scan-number", `#${scan.number}`),
      element("span", "scan-tag", scan.tag),
      element("span", "scan-status", STATUS_LABELS[status]),
    );
    const time = element("time", "scan-time", clockTime(scan.scannedAt));
    time.dateTime = new Date(scan.scannedAt).toISOString();
    line.append(time);
    row.append(line);

    let result = scan.headline;
    if (scan.status === "waiting") {
      result = scan.user === config.user ? "Kept on this phone until it is sent." : "";
    }
    if (scan.status === "done" && scan.action === "transfer") {
      result = `${scan.headline} · now at ${scan.site} ${scan.siteName || ""}`.trim();
    }
    if (result) {
      row.append(element("p", "scan-result", result));
    }
    if (scan.detail) {
      row.append(element("p", "scan-detail", scan.detail));
    }
    const notes = [];
    if (!store.session || scan.sessionId !== store.session.id) {
      notes.push(`From an earlier session: ${actionLabel(scan.action)}.`);
    }
    if (scan.status === "waiting" && scan.user !== config.user) {
      notes.push(`Scanned by ${scan.user}; sign in as ${scan.user} to send it.`);
    }
    if (scan.status === "waiting" && scan.attempts) {
      notes.push(`Not sent yet (${scan.attempts} attempt${scan.attempts === 1 ? "" : "s"}).`);
    }
    if (notes.length) {
      row.append(element("p", "scan-note", notes.join(" ")));
    }
    return row;
  }

  function renderScan(scan) {
    const row = buildRow(scan);
    const existing = rows.get(scan.key);
    if (existing) {
      existing.replaceWith(row);
    } else {
      ui.list.prepend(row);
    }
    rows.set(scan.key, row);
  }

  function renderAll() {
    rows.clear();
    ui.list.replaceChildren();
    for (const scan of store.scans) {
      renderScan(scan);
    }
    showSession();
    renderStatus();
  }

  function renderStatus() {
    const counts = { done: 0, failed: 0, waiting: 0, duplicate: 0 };
    for (const scan of store.scans) {
      counts[scan.status] += 1;
    }
    for (const [status, node] of Object.entries(ui.counts)) {
      node.textContent = String(counts[status]);
    }
    ui.paused.hidden = !pausedReason;
    ui.pausedText.textContent = pausedReason;
    let text;
    if (navigator.onLine === false) {
      text = "Offline. Scans are kept on this phone and sent when the connection returns.";
    } else if (retryTimer) {
      text = `Cannot send scans now (${retryReason}); trying again shortly. They are kept on this phone.`;
    } else if (counts.waiting > 0 && !pausedReason) {
      text = "Sending…";
    } else {
      text = "Online. Each scan is applied as it is read.";
    }
    ui.connection.textContent = text;
    ui.connection.dataset.state = navigator.onLine === false || retryTimer ? "offline" : "online";
    if (!store.session) {
      showSession();
    }
  }

  /* ---- Input: handheld scanner or keyboard ---- */

  function keepFocus() {
    // A handheld scanner types into whatever has focus, so the field takes it back whenever
    // nothing else (a button, another field) took it. Not while the camera runs, where a tap
    // on the list would otherwise bring up the on-screen keyboard.
    setTimeout(() => {
      const active = document.activeElement;
      if (store.session && !cameraStream && (!active || active === document.body)) {
        ui.input.focus({ preventScroll: true });
      }
    }, 0);
  }

  function onKeyDown(event) {
    const active = document.activeElement;
    const typing = event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey;
    if (store.session && typing && (!active || active === document.body)) {
      ui.input.focus({ preventScroll: true });
    }
  }

  function onSubmitScan(event) {
    event.preventDefault();
    const text = ui.input.value;
    ui.input.value = "";
    handleScan(text);
    ui.input.focus({ preventScroll: true });
  }

  function applyScannerMode(enabled) {
    ui.scannerMode.checked = enabled;
    ui.input.inputMode = enabled ? "none" : "text";
  }

  /* ---- Camera ---- */

  let cameraStream = null;
  let detector = null;
  let lastCameraText = "";
  let lastCameraAt = 0;

  async function setUpCamera() {
    if (!("BarcodeDetector" in window)) {
      ui.cameraNote.textContent =
        "This browser cannot read QR codes with the camera (it has no BarcodeDetector; " +
        "Chrome on Android and ChromeOS do). Use a handheld scanner or type the tag.";
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      ui.cameraNote.textContent =
        "The camera is available only over HTTPS. Use a handheld scanner or type the tag.";
      return;
    }
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!formats.includes("qr_code")) {
        ui.cameraNote.textContent =
          "This device's barcode reader does not read QR codes. Use a handheld scanner or type the tag.";
        return;
      }
    } catch (error) {
      ui.cameraNote.textContent = `The camera's barcode reader failed: ${error.message}`;
      return;
    }
    ui.cameraToggle.hidden = false;
  }

  async function startCamera() {
    try {
      cameraStream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
    } catch (error) {
      cameraStream = null;
      ui.cameraNote.textContent =
        error.name === "NotAllowedError"
          ? "The camera is blocked for this site; allow it in the browser's site settings."
          : `The camera could not start: ${error.message}`;
      return;
    }
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    ui.cameraView.srcObject = cameraStream;
    ui.cameraView.hidden = false;
    ui.cameraToggle.textContent = "Stop the camera";
    ui.cameraNote.textContent = "Hold a label's QR code in view; each new code is applied once.";
    await ui.cameraView.play();
    readCamera();
  }

  function stopCamera() {
    if (cameraStream) {
      for (const track of cameraStream.getTracks()) {
        track.stop();
      }
    }
    cameraStream = null;
    ui.cameraView.srcObject = null;
    ui.cameraView.hidden = true;
    ui.cameraToggle.textContent = "Scan with the camera";
  }

  async function readCamera() {
    if (!cameraStream) {
      return;
    }
    if (ui.cameraView.readyState >= 2) {
      try {
        for (const code of await detector.detect(ui.cameraView)) {
          onCameraText(code.rawValue);
        }
      } catch (error) {
        console.warn("barcode detection failed:", error);
      }
    }
    setTimeout(readCamera, CAMERA_INTERVAL_MS);
  }

  function onCameraText(text) {
    const now = Date.now();
    const repeated = text === lastCameraText && now - lastCameraAt < CAMERA_REPEAT_MS;
    lastCameraText = text;
    lastCameraAt = now;
    if (!repeated) {
      handleScan(text);
    }
  }

  /* ---- Offline page ---- */

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator) || !config.serviceWorker) {
      return;
    }
    navigator.serviceWorker.register(config.serviceWorker, { scope: "/scan" }).catch((error) => {
      console.warn("scan page service worker not registered:", error);
    });
  }

  /* ---- Start ---- */

  ui.setup.addEventListener("change", updateSetupFields);
  ui.setup.addEventListener("submit", startSession);
  ui.end.addEventListener("click", endSession);
  ui.form.addEventListener("submit", onSubmitScan);
  ui.input.addEventListener("blur", keepFocus);
  document.addEventListener("keydown", onKeyDown);
  ui.resume.addEventListener("click", resumeSending);
  ui.scannerMode.addEventListener("change", () => {
    applyScannerMode(ui.scannerMode.checked);
    saveOptions({ ...loadOptions(), scannerMode: ui.scannerMode.checked });
    ui.input.focus({ preventScroll: true });
  });
  ui.cameraToggle.addEventListener("click", () => (cameraStream ? stopCamera() : startCamera()));
  window.addEventListener("online", resumeSending);
  window.addEventListener("offline", renderStatus);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      resumeSending();
    } else {
      stopCamera();
    }
  });
  // Another tab of this page changed the stored scans: show them as they are now.
  window.addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY) {
      store = loadStore();
      renderAll();
    }
  });

  // A session that someone else started on this phone ends here. Their waiting scans stay
  // and are sent once they sign in again, because a scan is sent only as the user who took it.
  if (store.session && store.session.user !== config.user) {
    store.session = null;
    store.scans = store.scans.filter((scan) => scan.status === "waiting");
    saveStore();
  }
  applyScannerMode(Boolean(loadOptions().scannerMode));
  applyPrefill();
  updateSetupFields();
  renderAll();
  setUpCamera();
  registerServiceWorker();
  pump();
})();
