// The live page: keeps a copy of the running graph from the server's stream of changes (one
// Server-Sent Event per delta, see kamaelia::live) and draws it: each component a card inside
// its parent's, inboxes left (filled against their capacity), outboxes right, linkages as arrows.
// Siblings of the same shape beyond ?fold=N (6) are counted on one card, and past ?max=N (400)
// cards, the rest of a level too, so that hundreds of connections do not freeze the browser;
// a component's boxes past 8 of a kind are counted too.
'use strict';
(() => {
  const params = new URLSearchParams(location.search);
  const number = (name, fallback, least) => Math.max(least, parseInt(params.get(name), 10) || fallback);
  const FOLD = number('fold', 6, 1);
  const MAX_CARDS = number('max', 400, 10);
  /** At most this many boxes of one kind are drawn on a component. */
  const MAX_BOXES = 8;
  /** At most this many arrows are drawn. */
  const MAX_ARROWS = 4000;
  /** Redraws at most this often, in ms, however fast deltas come. */
  const MIN_GAP = 200;
  const base = location.pathname.replace(/\/+$/, '');

  const comps = new Map(); // id -> {id, name, class, kind, state, parent, boxes}
  const links = new Map(); // id -> {id, from, to, passthrough, owner}
  let seq = null;

  const stage = document.getElementById('stage');
  const graphEl = document.getElementById('graph');
  const svg = document.getElementById('links');
  const pathsEl = document.getElementById('paths');
  const statusEl = document.getElementById('status');
  const summaryEl = document.getElementById('summary');

  const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  /** A class without its module path: `kamaelia_http::parser::HTTPParser` is `HTTPParser`. */
  const short = (cls) => {
    const at = cls.lastIndexOf('::');
    return at < 0 ? cls : cls.slice(at + 2);
  };
  const key = (component, kind, name) => `${component}:${kind === 'inbox' ? 'i' : 'o'}:${name}`;

  /** Brings the copy up to date with one delta (the order axon_core's Snapshot::apply uses). */
  function apply(d) {
    if (d.full) {
      comps.clear();
      links.clear();
    }
    for (const id of d.removed) comps.delete(id);
    for (const id of d.links_removed) links.delete(id);
    for (const c of d.added) comps.set(c.id, c);
    for (const l of d.links_added) links.set(l.id, l);
    for (const ch of d.changed) {
      const c = comps.get(ch.id);
      if (c) {
        c.state = ch.state;
        c.parent = ch.parent;
      }
    }
    for (const dp of d.depths) {
      const c = comps.get(dp.component);
      const b = c && c.boxes.find((b) => b.kind === 'inbox' && b.name === dp.box);
      if (b) {
        b.depth = dp.depth;
        b.capacity = dp.capacity;
      }
    }
    seq = d.seq;
    schedule();
  }

  let pending = false;
  let last = -Infinity;
  function schedule() {
    if (pending) return;
    pending = true;
    setTimeout(render, Math.max(0, last + MIN_GAP - performance.now()));
  }

  function render() {
    pending = false;
    last = performance.now();
    const kids = new Map();
    const roots = [];
    for (const c of [...comps.values()].sort((a, b) => a.id - b.id)) {
      if (c.parent != null && comps.has(c.parent)) {
        if (!kids.has(c.parent)) kids.set(c.parent, []);
        kids.get(c.parent).push(c);
      } else {
        roots.push(c);
      }
    }
    // A component's shape: its class and its children's shapes. Siblings of one shape (the
    // graphs of two connections) fold together.
    const shapes = new Map();
    const shape = (c) => {
      let s = shapes.get(c.id);
      if (s === undefined) {
        s = `${short(c.class)}(${(kids.get(c.id) || []).map(shape).sort().join(',')})`;
        shapes.set(c.id, s);
      }
      return s;
    };
    const out = [];
    let cards = 0;

    const inbox = (c, b) => {
      const cap = b.capacity;
      const ratio = cap ? Math.min(1, b.depth / cap) : Math.min(1, b.depth / 64);
      const level = ratio >= 0.9 ? 'high' : ratio >= 0.5 ? 'mid' : 'low';
      return `<div class="box in" data-key="${esc(key(c.id, 'inbox', b.name))}" data-depth="${b.depth}" ` +
        `data-capacity="${cap == null ? '' : cap}" title="${esc(`${b.name}: ${b.description} (${b.type})`)}">` +
        `<span class="fill" data-level="${level}" style="width:${(ratio * 100).toFixed(1)}%"></span>` +
        `<span class="bn">${esc(b.name)}</span><span class="bd">${b.depth}/${cap == null ? '∞' : cap}</span></div>`;
    };
    const outbox = (c, b) =>
      `<div class="box out" data-key="${esc(key(c.id, 'outbox', b.name))}" ` +
      `title="${esc(`${b.name}: ${b.description} (${b.type})`)}"><span class="bn">${esc(b.name)}</span></div>`;

    const card = (c) => {
      cards += 1;
      const cls = short(c.class);
      out.push(`<div class="comp" data-id="${c.id}" data-class="${esc(cls)}" data-state="${esc(c.state)}" ` +
        `title="${esc(c.name)} (${esc(c.kind)}, ${esc(c.state)})"><div class="title">${esc(cls)}` +
        `<span class="cid">#${c.id}</span>${c.kind === 'task' ? '' : `<span class="kind">${esc(c.kind)}</span>`}` +
        '</div><div class="body"><div class="ins">');
      boxes(c, 'inbox', inbox);
      out.push('</div><div class="kids">');
      const children = kids.get(c.id);
      if (children) level(children);
      out.push('</div><div class="outs">');
      boxes(c, 'outbox', outbox);
      out.push('</div></div></div>');
    };

    const fold = (members, count, why) => {
      const cls = short(members[0].class);
      const inside = [...new Set((kids.get(members[0].id) || []).map((k) => short(k.class)))].join(', ');
      out.push(`<div class="fold" data-class="${esc(cls)}" data-count="${count}" ` +
        `title="${count} more ${esc(cls)} ${why}, not drawn">+ ${count} more ${esc(cls)}` +
        `${inside ? `<span class="what">holding ${esc(inside)}</span>` : ''}</div>`);
    };
    // A component's boxes of one kind, the first MAX_BOXES drawn (a server has an outbox per
    // connection).
    const boxes = (c, kind, draw) => {
      const all = c.boxes.filter((b) => b.kind === kind);
      for (const b of all.slice(0, MAX_BOXES)) out.push(draw(c, b));
      if (all.length > MAX_BOXES) {
        const more = all.length - MAX_BOXES;
        out.push(`<div class="box more" data-count="${more}" title="${more} more ${kind}es, not drawn">+ ${more} more</div>`);
      }
    };

    // One level of siblings, in id order (a connection's protocol next to its socket): each
    // shape drawn up to FOLD times and the rest of it counted on a card after the last one drawn;
    // past MAX_CARDS cards, the rest of the level counted by class.
    function level(list) {
      const groups = new Map();
      for (const c of list) {
        const s = shape(c);
        if (!groups.has(s)) groups.set(s, []);
        groups.get(s).push(c);
      }
      const folded = new Set();
      const foldAfter = new Map();
      for (const members of groups.values()) {
        if (members.length > FOLD) {
          for (const c of members.slice(FOLD)) folded.add(c.id);
          foldAfter.set(members[FOLD - 1].id, members);
        }
      }
      const over = new Map();
      for (const c of list) {
        if (folded.has(c.id)) continue;
        const group = foldAfter.get(c.id);
        if (cards >= MAX_CARDS) {
          const cls = short(c.class);
          over.set(cls, (over.get(cls) || 0) + 1 + (group ? group.length - FOLD : 0));
          continue;
        }
        card(c);
        if (group) fold(group, group.length - FOLD, 'of the same shape');
      }
      for (const [cls, count] of over) fold([{ class: cls, id: null }], count, 'past the drawing budget');
    }

    level(roots);
    graphEl.innerHTML = out.join('');
    drawArrows();
    summaryEl.dataset.components = comps.size;
    summaryEl.dataset.linkages = links.size;
    summaryEl.dataset.drawn = cards;
    summaryEl.dataset.seq = seq;
    summaryEl.textContent = `${comps.size} components, ${links.size} linkages` +
      (cards < comps.size ? ` (${cards} drawn, the rest folded)` : '');
  }

  function drawArrows() {
    const origin = stage.getBoundingClientRect();
    const at = new Map();
    for (const el of graphEl.querySelectorAll('.box')) at.set(el.dataset.key, el.getBoundingClientRect());
    const paths = [];
    for (const l of links.values()) {
      if (paths.length >= MAX_ARROWS) break;
      const a = at.get(key(l.from.component, l.from.kind, l.from.box));
      const b = at.get(key(l.to.component, l.to.kind, l.to.box));
      if (!a || !b) continue;
      const x1 = a.right - origin.left;
      const y1 = a.top + a.height / 2 - origin.top;
      const x2 = b.left - origin.left;
      const y2 = b.top + b.height / 2 - origin.top;
      // Forward: a smooth S. Backward (the sink left of the source): a short loop out and back.
      const dx = x2 > x1 ? Math.max(24, (x2 - x1) / 2) : 36;
      paths.push(`<path class="link ${esc(l.passthrough)}" data-id="${l.id}" ` +
        `d="M${x1.toFixed(1)},${y1.toFixed(1)} C${(x1 + dx).toFixed(1)},${y1.toFixed(1)} ` +
        `${(x2 - dx).toFixed(1)},${y2.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}"/>`);
    }
    svg.setAttribute('width', stage.scrollWidth);
    svg.setAttribute('height', stage.scrollHeight);
    pathsEl.innerHTML = paths.join('');
  }

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function connect() {
    const events = new EventSource(`${base}/events`);
    events.addEventListener('graph', (e) => apply(JSON.parse(e.data)));
    events.onopen = () => setStatus('live', 'live');
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) {
        // Refused (too many viewers, say): the browser will not retry by itself.
        setStatus('reconnecting', 'refused; retrying in 3 s');
        setTimeout(connect, 3000);
      } else {
        setStatus('reconnecting', 'reconnecting…');
      }
    };
  }

  window.addEventListener('resize', schedule);
  connect();
})();
