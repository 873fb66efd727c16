/*
 * jitd approver page.  Plain browser JavaScript, no framework, no build
 * step.  Every value that comes from the broker is put into the page with
 * textContent or as a text node, never as HTML: reasons, names, tickets
 * and comments are typed by other people.  The session lives in an
 * HttpOnly cookie the script cannot read; the CSRF token the broker gave
 * at login is sent back as X-CSRF-Token on every POST.
 */
'use strict';

(function () {
  const POLL_MS = 4000;

  const state = {
    csrf: '',
    user: '',
    offset: 0,          /* server clock minus browser clock, seconds */
    mfaFresh: true,
    mfaMaxAge: 900,
    approverRoles: new Set(),
    view: 'list',
    detailId: 0,
    pending: null,      /* action to retry after an MFA step-up */
    timer: 0,
    busy: false,
  };

  const $ = (id) => document.getElementById(id);

  /* ---- small DOM helpers (text only) ---- */

  function el(tag, opts, ...children) {
    const e = document.createElement(tag);
    if (opts) {
      if (opts.cls) e.className = opts.cls;
      if (opts.title) e.title = opts.title;
      if (opts.data) for (const k of Object.keys(opts.data)) e.dataset[k] = String(opts.data[k]);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function setText(id, v) {
    $(id).textContent = v === null || v === undefined ? '' : String(v);
  }

  function show(id, on) {
    $(id).hidden = !on;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /* ---- time ---- */

  function now() {
    return Math.floor(Date.now() / 1000) + state.offset;
  }

  function fmtDur(s) {
    if (s === null || s === undefined) return '';
    s = Math.max(0, Math.floor(s));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return sec === 0 ? m + 'm' : m + 'm ' + (sec < 10 ? '0' : '') + sec + 's';
    return sec + 's';
  }

  function fmtTime(t) {
    if (!t) return '';
    const d = new Date(t * 1000);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }

  function ago(t) {
    return t ? fmtDur(now() - t) + ' ago' : '';
  }

  /* Seconds until the request's next deadline, and what it is. */
  function timeLeft(r) {
    if (r.state === 'pending') return { s: r.pending_expires_at - now(), what: 'to decide' };
    if (r.state === 'approved' && r.grant_end) return { s: r.grant_end - now(), what: 'of access' };
    return null;
  }

  function leftText(r) {
    const t = timeLeft(r);
    return t ? fmtDur(t.s) + ' ' + t.what : '\u2014';
  }

  function stateBadge(s) {
    return el('span', { cls: 'state state-' + String(s).replace(/[^a-z]/g, '') }, s);
  }

  /* ---- talking to the broker ---- */

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code || ('HTTP ' + status));
      this.status = status;
      this.code = code || '';
    }
  }

  async function api(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
    if (method !== 'GET') {
      headers['X-CSRF-Token'] = state.csrf;
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body || {});
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'network', 'The broker cannot be reached.');
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      throw new ApiError(resp.status, data && data.error, data && data.message);
    }
    return data;
  }

  function notice(msg, kind) {
    const n = $('notice');
    n.textContent = msg || '';
    n.className = 'banner ' + (kind || 'info');
    n.hidden = !msg;
  }

  /* Common reactions to an API error; returns true if handled. */
  function handleAuthError(e, retry) {
    if (e.status === 401 && e.code === 'mfa_required') {
      state.pending = retry || null;
      showMfa(true);
      return true;
    }
    if (e.status === 401 || (e.status === 403 && e.code === 'csrf')) {
      toLogin('Your session ended. Please sign in again.');
      return true;
    }
    return false;
  }

  /* ---- login, session, MFA ---- */

  function toLogin(msg) {
    stopPolling();
    state.csrf = '';
    state.user = '';
    show('who', false);
    show('list-view', false);
    show('detail-view', false);
    show('mfa-banner', false);
    show('login-view', true);
    if (msg) {
      setText('login-error', msg);
      show('login-error', true);
    }
    $('login-user').focus();
  }

  function applySession(s) {
    state.user = s.user;
    if (s.csrf) state.csrf = s.csrf;
    if (typeof s.now === 'number') state.offset = s.now - Math.floor(Date.now() / 1000);
    if (typeof s.mfa_max_age === 'number') state.mfaMaxAge = s.mfa_max_age;
    if (typeof s.mfa_fresh === 'boolean') {
      state.mfaFresh = s.mfa_fresh;
      if (!s.mfa_fresh) showMfa(false);
    }
    setText('who-name', s.user);
    show('who', true);
  }

  function showMfa(becauseRefused) {
    const mins = Math.round(state.mfaMaxAge / 60);
    setText('mfa-text', (becauseRefused ? 'That action was not done. ' : '') +
      'Approving, denying and revoking need a one-time code entered in the last ' +
      mins + ' minutes. Enter the current code from your authenticator.');
    show('mfa-banner', true);
  }

  async function onLogin(ev) {
    ev.preventDefault();
    show('login-error', false);
    const body = {
      user: $('login-user').value.trim(),
      password: $('login-password').value,
      otp: $('login-otp').value.trim(),
    };
    $('login-submit').disabled = true;
    try {
      const s = await api('POST', '/v1/web/login', body);
      $('login-password').value = '';
      $('login-otp').value = '';
      applySession(s);
      state.mfaFresh = true;
      show('login-view', false);
      await loadRoles();
      route();
      startPolling();
    } catch (e) {
      setText('login-error', e.status === 401 ? 'Sign-in failed: wrong user, password or code, or the account is locked.' : e.message);
      show('login-error', true);
    } finally {
      $('login-submit').disabled = false;
    }
  }

  async function onLogout() {
    try {
      await api('POST', '/v1/web/logout');
    } catch (e) {
      /* The session is gone either way. */
    }
    toLogin('You have signed out.');
  }

  async function onMfa(ev) {
    ev.preventDefault();
    const otp = $('mfa-otp').value.trim();
    try {
      await api('POST', '/v1/mfa', { otp });
      $('mfa-otp').value = '';
      state.mfaFresh = true;
      show('mfa-banner', false);
      const retry = state.pending;
      state.pending = null;
      notice('Code accepted.', 'ok');
      if (retry) await retry();
      else await refresh();
    } catch (e) {
      if (e.status === 401 && e.code !== 'mfa_required' && e.message.indexOf('code') >= 0) {
        notice('That code was not accepted: it is wrong, expired or already used.', 'error');
      } else if (!handleAuthError(e)) {
        notice(e.message, 'error');
      }
    }
  }

  async function loadRoles() {
    const r = await api('GET', '/v1/roles');
    state.approverRoles = new Set(r.roles.filter((x) => x.can_approve).map((x) => x.name));
  }

  /* ---- list view ---- */

  function rowFor(r, cells) {
    const tr = el('tr', { cls: 'clickable', data: { id: r.id } });
    for (const c of cells) tr.appendChild(c instanceof Node && c.tagName === 'TD' ? c : el('td', null, c));
    tr.tabIndex = 0;
    const open = () => { location.hash = '#/requests/' + encodeURIComponent(r.id); };
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
    return tr;
  }

  function reasonCell(r) {
    return el('td', { cls: 'reason-cell', title: r.reason }, r.reason);
  }

  function votes(r) {
    return r.approvals + ' of ' + r.approvals_required;
  }

  function fillTable(id, rows, make) {
    const tb = $(id).querySelector('tbody');
    clear(tb);
    for (const r of rows) tb.appendChild(make(r));
    show(id, rows.length > 0);
    show(id + '-empty', rows.length === 0);
  }

  async function refreshList() {
    const [appr, live, mine] = await Promise.all([
      api('GET', '/v1/requests?approvable=1'),
      api('GET', '/v1/requests?state=approved'),
      api('GET', '/v1/requests?mine=1'),
    ]);
    fillTable('approvable', appr.requests, (r) => {
      const left = timeLeft(r);
      const lc = el('td', { cls: left && left.s < 300 ? 'soon' : '' }, leftText(r));
      return rowFor(r, [r.user, r.role, reasonCell(r), r.ticket || '\u2014',
        fmtDur(r.duration), ago(r.created_at), votes(r), lc]);
    });
    setText('count-approvable', appr.requests.length ? '(' + appr.requests.length + ')' : '');
    const grants = live.requests.filter((r) => state.approverRoles.has(r.role));
    fillTable('live', grants, (r) => rowFor(r, [r.user, r.role, reasonCell(r),
      r.ticket || '\u2014', ago(r.approved_at), fmtDur(r.grant_end - now())]));
    setText('count-live', grants.length ? '(' + grants.length + ')' : '');
    fillTable('mine', mine.requests, (r) => rowFor(r, ['#' + r.id, r.role, reasonCell(r),
      r.ticket || '\u2014', fmtDur(r.duration), el('td', null, stateBadge(r.state)),
      votes(r), leftText(r)]));
    setText('refreshed', 'Updated ' + new Date().toLocaleTimeString() + '; refreshes every ' + (POLL_MS / 1000) + ' seconds.');
  }

  /* ---- detail view ---- */

  let current = null;

  function renderDetail(r) {
    current = r;
    setText('d-id', '#' + r.id);
    const st = $('d-state');
    st.textContent = r.state;
    st.className = 'state state-' + String(r.state).replace(/[^a-z]/g, '');
    setText('d-user', r.user);
    setText('d-role', r.role);
    setText('d-reason', r.reason || '\u2014');
    setText('d-ticket', r.ticket || '\u2014');
    setText('d-duration', fmtDur(r.duration));
    setText('d-created', fmtTime(r.created_at) + ' (' + ago(r.created_at) + ')');
    setText('d-votes', votes(r) + ' approvals');
    const t = timeLeft(r);
    setText('d-left-label', t && r.state === 'approved' ? 'Access ends in' : 'Time left');
    setText('d-left', t ? fmtDur(t.s) + ' ' + t.what : '\u2014');
    setText('d-grant', r.grant_start ? fmtTime(r.grant_start) + ' \u2192 ' + fmtTime(r.grant_end) : '\u2014');
    const flags = [];
    if (r.break_glass) flags.push('Break-glass request (review: ' + (r.review || 'none') + ').');
    if (r.extends) flags.push('Extends request #' + r.extends + '.');
    setText('d-flags', flags.join(' '));

    const mineReq = r.user === state.user;
    const approver = state.approverRoles.has(r.role);
    const canDecide = r.state === 'pending' && approver && !mineReq &&
      !(r.votes || []).some((v) => v.approver === state.user);
    show('approve', canDecide);
    show('deny', canDecide);
    show('revoke', r.state === 'approved' && approver);
    show('cancel', mineReq && (r.state === 'pending' || r.state === 'approved'));
    show('d-actions', canDecide || (r.state === 'approved' && approver) ||
      (mineReq && (r.state === 'pending' || r.state === 'approved')));

    const vt = $('d-votes-table').querySelector('tbody');
    clear(vt);
    for (const v of r.votes || []) {
      vt.appendChild(el('tr', null, el('td', null, v.approver),
        el('td', null, stateBadge(v.decision === 'approve' ? 'approved' : 'denied')),
        el('td', { cls: 'reason' }, v.comment || '\u2014'), el('td', null, fmtTime(v.at))));
    }
    show('d-votes-table', (r.votes || []).length > 0);
    show('d-votes-empty', (r.votes || []).length === 0);

    const ht = $('d-history').querySelector('tbody');
    clear(ht);
    for (const h of r.history || []) {
      ht.appendChild(el('tr', null, el('td', null, fmtTime(h.at)), el('td', null, h.actor),
        el('td', null, h.action), el('td', null, h.outcome), el('td', { cls: 'reason' }, historyDetails(h.details))));
    }
  }

  function historyDetails(d) {
    if (!d || typeof d !== 'object') return '';
    const parts = [];
    for (const k of ['comment', 'why', 'reason', 'state', 'role', 'ticket']) {
      if (d[k] !== undefined && d[k] !== '' && d[k] !== null) parts.push(k + ': ' + d[k]);
    }
    return parts.join('; ');
  }

  async function refreshDetail() {
    const r = await api('GET', '/v1/requests/' + encodeURIComponent(state.detailId));
    renderDetail(r);
  }

  async function act(action) {
    if (!current || state.busy) return;
    const id = current.id;
    const comment = $('d-comment').value;
    const run = async () => {
      state.busy = true;
      show('decide-error', false);
      try {
        const body = action === 'cancel' ? {} : { comment };
        const r = await api('POST', '/v1/requests/' + encodeURIComponent(id) + '/' + action, body);
        $('d-comment').value = '';
        notice('Request #' + id + ': ' + action + ' done; it is now ' + r.state + '.', 'ok');
        if (state.view === 'detail' && state.detailId === id) await refreshDetail();
      } catch (e) {
        if (!handleAuthError(e, run)) {
          setText('decide-error', e.message);
          show('decide-error', true);
        }
      } finally {
        state.busy = false;
      }
    };
    if ((action === 'deny' || action === 'revoke') && !comment.trim()) {
      setText('decide-error', 'Please say why in the comment.');
      show('decide-error', true);
      return;
    }
    await run();
  }

  /* ---- routing and polling ---- */

  function route() {
    notice('');
    const approver = state.approverRoles.size > 0;
    show('approvable-card', approver);
    show('live-card', approver);
    const m = /^#\/requests\/([1-9][0-9]{0,17})$/.exec(location.hash);
    if (m) {
      state.view = 'detail';
      state.detailId = Number(m[1]);
      show('list-view', false);
      show('detail-view', true);
      show('decide-error', false);
    } else {
      state.view = 'list';
      show('detail-view', false);
      show('list-view', true);
    }
    refresh();
  }

  async function refresh() {
    if (!state.user) return;
    try {
      const s = await api('GET', '/v1/web/session');
      applySession(s);
      if (state.view === 'detail') await refreshDetail();
      else await refreshList();
    } catch (e) {
      if (e.status === 404 && state.view === 'detail') {
        notice('Request #' + state.detailId + ' does not exist or is not visible to you.', 'error');
        location.hash = '#/';
      } else if (!handleAuthError(e)) {
        notice(e.message, 'error');
      }
    }
  }

  function startPolling() {
    stopPolling();
    state.timer = setInterval(refresh, POLL_MS);
  }

  function stopPolling() {
    if (state.timer) clearInterval(state.timer);
    state.timer = 0;
  }

  async function start() {
    $('login-form').addEventListener('submit', onLogin);
    $('mfa-form').addEventListener('submit', onMfa);
    $('logout').addEventListener('click', onLogout);
    $('approve').addEventListener('click', () => act('approve'));
    $('deny').addEventListener('click', () => act('deny'));
    $('revoke').addEventListener('click', () => act('revoke'));
    $('cancel').addEventListener('click', () => act('cancel'));
    window.addEventListener('hashchange', () => { if (state.user) route(); });
    try {
      applySession(await api('GET', '/v1/web/session'));
      await loadRoles();
      route();
      startPolling();
    } catch (e) {
      toLogin(e.status === 401 || e.status === 0 ? '' : e.message);
    }
  }

  document.addEventListener('DOMContentLoaded', start);
})();
