// The management portal: a single page app with hash routes
// (#/index.html, #/items, …). It knows whether the admin is logged in from
// GET /api/admin/session, renders one page at a time into #page, and stops
// the page's polling when another page replaces it. After a page change the
// focus goes to the new page's heading, unless the page put it on one of
// its fields (a login form), so a keyboard or screen reader user starts
// reading the new page instead of staying on the menu.

import * as api from './api.js';
import { $, h, replace, showError, clearError, showNotice, clearNotice, installDialog, closeDialog, safeURL, portalURL, focusOn } from './dom.js';
import { setupPage, loginPage, passwordPage } from './account.js';
import { homePage } from './home.js';
import { itemsPage } from './items.js';
import { handshakesPage } from './handshakes.js';
import { clusterPage } from './cluster.js';
import { drillPage } from './drills.js';
import { statsPage } from './stats.js';
import { alertsPage } from './alerts.js';
import { auditPage } from './audit.js';

const routes = {
  '/index.html': homePage,
  '/setup': setupPage,
  '/login': loginPage,
  '/items': itemsPage,
  '/handshakes': handshakesPage,
  '/statistics': statsPage,
  '/alerts': alertsPage,
  '/cluster': clusterPage,
  '/audit': auditPage,
  '/drill': drillPage,
  '/password': passwordPage,
};

const afterLoginKey = 'lts.after-login';

/// What the portal knows of the admin session: null until the first check.
const session = { loggedIn: null, passwordSet: null };

/// Counts renders, so the answer of a request made for a page that is no
/// longer shown is dropped instead of drawn into the current one.
let generation = 0;
let cleanups = [];
/// A message to show once the next page is rendered.
let flash = null;

function currentRoute() {
  const hash = location.hash.replace(/^#/, '');
  const path = hash.split('?')[0];
  return routes[path] ? path : null;
}

function navigate(route, message) {
  flash = message || null;
  if (location.hash === '#' + route) render();
  else location.hash = '#' + route;
}

function stopPage() {
  for (const cleanup of cleanups) {
    try { cleanup(); } catch (e) { /* A page's cleanup must not stop the next page from rendering. */ }
  }
  cleanups = [];
  closeDialog();
}

function setShell(loggedIn, route) {
  $('nav').hidden = !loggedIn;
  $('logout').hidden = !loggedIn;
  $('layout').classList.toggle('layout-plain', !loggedIn);
  for (const link of document.querySelectorAll('#nav a')) {
    const current = link.dataset.route === route;
    link.classList.toggle('active', current);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!loggedIn) {
    $('node-badge').hidden = true;
    $('standby-slot').replaceChildren();
  }
}

/// The shell's view of this node's health: the role badge in the header
/// and, on a standby, the banner naming the primary. Pages that read
/// /api/health pass it here.
function showHealth(health) {
  const badge = $('node-badge');
  if (!health || !session.loggedIn) {
    badge.hidden = true;
    return;
  }
  badge.textContent = `${health.role}${typeof health.term === 'number' ? ' · term ' + health.term : ''}`;
  badge.className = `node-badge node-badge-${health.role}`;
  badge.hidden = false;
  const slot = $('standby-slot');
  if (health.role === 'standby') {
    const primary = safeURL(health.peer && health.peer.url);
    const banner = h('div', { class: 'banner banner-standby', 'data-test': 'standby-banner', role: 'note' },
      h('strong', null, 'This node is the standby: read-only.'), ' ',
      primary
        ? ['The primary is ', h('a', { href: portalURL(primary), 'data-test': 'primary-link' }, primary), '.']
        : h('span', null, 'The primary is not known yet.'));
    const old = slot.firstElementChild;
    // Replace only when the text changes, so a poll does not steal a click on the link.
    if (!old || old.textContent !== banner.textContent) slot.replaceChildren(banner);
  } else {
    slot.replaceChildren();
  }
}

async function checkSession() {
  try {
    const answer = await api.get('admin/session');
    session.loggedIn = true;
    session.passwordSet = true;
    if (answer && typeof answer.csrf === 'string') api.csrf.set(answer.csrf);
  } catch (error) {
    session.loggedIn = false;
    api.csrf.set('');
    if (error.code === api.codes.noPasswordYet) {
      session.passwordSet = false;
    } else if (error.status === 401 || error.status === 409) {
      session.passwordSet = true;
    } else {
      // The server could not say (it is down, or answered something else):
      // show the login page with the reason.
      session.passwordSet = null;
      flash = { error };
    }
  }
}

/// Called by pages: logged in now (with the CSRF token of the session).
function loggedIn(csrfToken) {
  session.loggedIn = true;
  session.passwordSet = true;
  api.csrf.set(csrfToken || '');
  let target = '/index.html';
  try {
    const saved = sessionStorage.getItem(afterLoginKey);
    sessionStorage.removeItem(afterLoginKey);
    if (saved && routes[saved] && saved !== '/login' && saved !== '/setup') target = saved;
  } catch (e) { /* No storage: go home. */ }
  navigate(target);
}

function loggedOut(message) {
  session.loggedIn = false;
  session.passwordSet = true;
  api.csrf.set('');
  navigate('/login', message);
}

function passwordWasSet() {
  session.passwordSet = true;
  navigate('/login', { notice: 'The admin password is set. Log in with it.' });
}

async function render() {
  stopPage();
  const myGeneration = ++generation;
  if (session.loggedIn === null) await checkSession();
  if (myGeneration !== generation) return;

  let route = currentRoute();
  if (!route) route = session.loggedIn ? '/index.html' : null;
  if (!session.loggedIn) {
    const page = route && routes[route];
    // Whether a password is set decides between the first-visit and the login form.
    const wrongForm = (route === '/setup' && session.passwordSet === true) || (route === '/login' && session.passwordSet === false);
    if (!page || page.auth || wrongForm) {
      if (route && route !== '/index.html') {
        try { sessionStorage.setItem(afterLoginKey, route); } catch (e) { /* Not remembered: go home after login. */ }
      }
      route = session.passwordSet === false ? '/setup' : '/login';
      history.replaceState(null, '', '#' + route);
    }
  } else if (route === '/login' || route === '/setup') {
    route = '/index.html';
    history.replaceState(null, '', '#' + route);
  }

  const page = routes[route];
  setShell(session.loggedIn, route);
  clearError();
  clearNotice();
  $('page-title').textContent = page.title;
  document.title = `${page.title} — lts`;
  const container = $('page');
  container.replaceChildren();

  const ctx = {
    page: container,
    session,
    /// True while this page is the one shown.
    get current() { return myGeneration === generation; },
    /// Runs `task` now and every `intervalMs` after it finished, until
    /// the page is left. A task that fails keeps polling.
    poll(task, intervalMs) {
      let timer = null;
      let stopped = false;
      const run = async () => {
        try { await task(); } catch (e) { /* The task shows its own errors. */ }
        if (!stopped && myGeneration === generation) timer = setTimeout(run, intervalMs);
      };
      cleanups.push(() => { stopped = true; clearTimeout(timer); });
      run();
    },
    onLeave(cleanup) { cleanups.push(cleanup); },
    /// Shows an API error; a lost session sends the admin to the login
    /// page. `options.focus`: the error answers the admin's action, so the
    /// focus moves to it.
    fail(error, options) {
      if (myGeneration !== generation) return;
      if (error && error.code === api.codes.notLoggedIn && session.loggedIn) {
        try { sessionStorage.setItem(afterLoginKey, route); } catch (e) { /* Go home after login. */ }
        loggedOut({ error });
        return;
      }
      showError(error, options);
    },
    navigate,
    loggedIn,
    loggedOut,
    passwordWasSet,
    showHealth,
  };

  let pageRender;
  try {
    pageRender = page.render(ctx);
  } catch (error) {
    pageRender = Promise.reject(error);
  }
  if (myGeneration === generation && !container.contains(document.activeElement)) focusOn($('page-title'));
  try {
    await pageRender;
  } catch (error) {
    ctx.fail(error);
  }
  if (flash && myGeneration === generation) {
    if (flash.error) showError(flash.error);
    if (flash.notice) showNotice(flash.notice);
    flash = null;
  }
  if (session.loggedIn && page.auth && !page.readsHealth) refreshHealth(myGeneration);
}

/// Pages that do not poll health still keep the header badge and the
/// standby banner right.
async function refreshHealth(myGeneration) {
  try {
    const health = await api.get('health');
    if (myGeneration === generation) showHealth(health);
  } catch (e) { /* The page shows what matters; the badge just stays as it was. */ }
}

async function logout() {
  try {
    await api.post('admin/logout');
  } catch (error) {
    // A session that already ended is logged out all the same.
    if (error.code !== api.codes.notLoggedIn) {
      showError(error);
      return;
    }
  }
  loggedOut({ notice: 'You are logged out.' });
}

/// The skip link jumps past the header and menu to the page (its target
/// is not a route, so the router must not see it).
function installSkipLink() {
  $('skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    focusOn($('page-title'));
    $('main').scrollIntoView();
  });
}

function start() {
  installDialog();
  installSkipLink();
  $('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', () => render());
  render();
}

start();
