// Sluice's web view: reads the status API of the Sluice that serves it every 2 s and renders it. Plain DOM: every
// string from the API goes in as text (textContent, attribute values), never as markup.
'use strict';

const POLL_MS = 2000;
const AUDIT_LIMIT = 50;

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) {
      e.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) {
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  return e;
}

function table(headers, rows) {
  if (rows.length === 0) {
    return el('p', {class: 'empty'}, 'none');
  }
  return el('table', {}, el('thead', {}, el('tr', {}, headers.map(h => el('th', {}, h)))),
      el('tbody', {}, rows));
}

function replace(id, node) {
  document.getElementById(id).replaceChildren(node);
}

// With sluice run --http-token-file, open the page once as /#token=TOKEN: the token is kept for this tab
// (sessionStorage), taken out of the address bar, and sent as a bearer token with every API request.
const TOKEN_KEY = 'sluice-token';
(function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
})();

async function get(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = token ? {'Authorization': 'Bearer ' + token} : {};
  const r = await fetch(path, {cache: 'no-store', headers: headers});
  if (!r.ok) {
    throw new Error(path + ': ' + r.status + ' ' + (await r.text()).trim());
  }
  return r.json();
}

function renderSwitches(realization, switches) {
  const byId = new Map(switches.map(s => [s.datapathId, s]));
  replace('switches', table(['switch', 'connection', 'role', 'realization', 'flows', 'groups', 'meters', 'last error'],
      realization.switches.map(r => {
        const s = byId.get(r.datapathId) || {};
        let state;
        if (!r.connected) {
          state = el('span', {class: 'bad'}, 'disconnected');
        } else if (r.realizedGeneration === realization.generation) {
          state = el('span', {class: 'ok'}, 'realized (generation ' + r.realizedGeneration + ')');
        } else {
          state = el('span', {class: 'warn'}, 'at generation ' + r.realizedGeneration + ' of ' + realization.generation);
        }
        return el('tr', {'data-switch': r.datapathId},
            el('td', {}, r.datapathId),
            el('td', {}, r.connected ? (s.address || 'connected') + (s.version ? ' ' + s.version : '') : '—'),
            el('td', {}, s.role || ''),
            el('td', {}, state),
            el('td', {class: 'num'}, r.flows), el('td', {class: 'num'}, r.groups), el('td', {class: 'num'}, r.meters),
            el('td', {class: r.lastError ? 'bad' : ''}, r.lastError || ''));
      })));
}

function renderPods(ports) {
  replace('pods', table(['pod', 'switch', 'port', 'MAC'], ports.bindings.map(b =>
      el('tr', {'data-pod': b.pod}, el('td', {}, b.pod), el('td', {}, b.datapathId), el('td', {class: 'num'}, b.ofport),
          el('td', {}, b.mac || '')))));
}

function renderPolicies(policies) {
  replace('policies', table(['policy', 'types', 'selects', 'status', 'rules (packets / bytes)'], policies.map(p => {
    const refused = p.rules.filter(r => !r.realized);
    let status;
    if (refused.length > 0) {
      status = el('span', {class: 'bad'}, refused.length + ' rule(s) not realized');
    } else if (p.realizedOnAllSwitches) {
      status = el('span', {class: 'ok'}, 'realized');
    } else {
      status = el('span', {class: 'warn'}, 'pending');
    }
    const rules = el('ul', {class: 'rules'}, p.rules.map(r => el('li', {title: r.error || r.flowsSharedWith || null},
        r.direction.toLowerCase() + ' ' + r.rule + ': ',
        r.packets === null ? 'not read yet' : r.packets + ' / ' + r.bytes,
        r.error ? el('span', {class: 'bad'}, ' ' + r.error) : null)));
    return el('tr', {'data-policy': p.policy}, el('td', {}, p.policy), el('td', {}, p.policyTypes.join(', ')),
        el('td', {}, p.selectedPods.join(', ') || '—'), el('td', {}, status),
        el('td', {}, p.rules.length ? rules : '—'));
  })));
}

function peer(p) {
  const who = p.pod ? p.namespace + '/' + p.pod : p.ip;
  return p.port ? who + ':' + p.port : who;
}

function renderAudit(events) {
  replace('audit', table(['time', 'verdict', 'switch', 'policy', 'protocol', 'source', 'destination', 'count'],
      events.map(e => el('tr', {},
          el('td', {}, e.time), el('td', {class: e.verdict === 'deny' ? 'bad' : 'ok'}, e.verdict), el('td', {}, e.switch),
          el('td', {}, e.policy + (e.rule === null || e.rule === undefined ? '' : ' rule ' + e.rule)
              + (e.direction ? ' (' + e.direction + ')' : '')),
          el('td', {}, e.protocol), el('td', {}, peer(e.source)), el('td', {}, peer(e.destination)),
          el('td', {class: 'num'}, e.count)))));
}

function renderErrors(errors) {
  replace('errors', table(['object', 'field', 'message'], errors.map(e => el('tr', {},
      el('td', {}, e.object), el('td', {}, e.field), el('td', {}, e.message)))));
}

function renderNamespaces(names) {
  const select = document.getElementById('namespace');
  const have = Array.from(select.options).map(o => o.value);
  if (have.join('\n') === names.join('\n')) {
    return;
  }
  const wanted = select.value || new URLSearchParams(location.search).get('namespace');
  select.replaceChildren(...names.map(n => el('option', {value: n}, n)));
  if (names.includes(wanted)) {
    select.value = wanted;
  }
}

function cellTitle(cell) {
  if (cell.error) {
    return cell.error;
  }
  return cell.ports.map(r => r.port + ': ' + (r.allowed ? 'allowed' : 'denied')
      + (r.packets === null ? '' : ', ' + r.packets + ' packets through its allowing rules') + '\n'
      + r.explanation.join('\n')).join('\n\n');
}

function renderMatrix(m) {
  const head = el('tr', {}, el('th', {}, 'from \\ to'), m.pods.map(p => el('th', {}, p)));
  const rows = m.rows.map(row => el('tr', {}, el('th', {}, row.from), row.cells.map(c =>
      el('td', {class: 'cell ' + c.verdict, title: cellTitle(c), 'data-from': m.namespace + '/' + row.from,
        'data-to': m.namespace + '/' + c.to, 'data-verdict': c.verdict, 'data-evidence': c.evidence},
      c.verdict === 'allowed' ? '✓' : c.verdict === 'denied' ? '✗' : c.verdict === 'partial' ? '◐' : '?',
      c.evidence ? el('span', {class: 'mark', title: 'an allowing rule has counted packets'}, '●') : null))));
  const note = el('p', {class: 'legend'}, 'Judged on ' + (m.port === 'declared'
      ? 'each destination\'s named container ports (TCP 80 if none)' : m.port)
      + (m.countersRead ? '; packets dropped by isolation on all switches: ' + m.isolationDrops
        : '; counters not read yet')
      + (m.truncated ? '. Only the first ' + m.pods.length + ' of ' + m.truncated + ' pods.' : ''));
  replace('matrix', m.pods.length === 0 ? el('p', {class: 'empty'}, 'no pods in ' + m.namespace)
      : el('div', {}, el('table', {class: 'matrix'}, el('thead', {}, head), el('tbody', {}, rows)), note));
}

let polling = false;

async function poll() {
  if (polling) {
    return;
  }
  polling = true;
  const status = document.getElementById('status');
  try {
    const [realization, switches, ports, policies, audit, errors, namespaces] = await Promise.all([
      get('/api/v1/realization'), get('/api/v1/switches'), get('/api/v1/ports'), get('/api/v1/policies'),
      get('/api/v1/audit?limit=' + AUDIT_LIMIT), get('/api/v1/errors'), get('/api/v1/namespaces')]);
    renderSwitches(realization, switches);
    renderPods(ports);
    renderPolicies(policies);
    renderAudit(audit);
    renderErrors(errors);
    renderNamespaces(namespaces);
    const ns = document.getElementById('namespace').value;
    if (ns) {
      const port = document.getElementById('port').value.trim();
      renderMatrix(await get('/api/v1/matrix?namespace=' + encodeURIComponent(ns)
          + (port ? '&port=' + encodeURIComponent(port) : '')));
    } else {
      replace('matrix', el('p', {class: 'empty'}, 'no namespaces'));
    }
    status.className = 'status';
    status.textContent = 'model generation ' + realization.generation + ', updated '
        + new Date().toLocaleTimeString();
  } catch (e) {
    status.className = 'status failed';
    status.textContent = 'update failed: ' + e.message;
  } finally {
    polling = false;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('namespace').addEventListener('change', poll);
  document.getElementById('matrix-form').addEventListener('submit', e => {
    e.preventDefault();
    poll();
  });
  document.getElementById('port').addEventListener('change', poll);
  poll();
  setInterval(poll, POLL_MS);
});
