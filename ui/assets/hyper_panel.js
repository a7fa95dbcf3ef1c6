// Every chosen optimizer's hyperparameters in one element, as native inputs.
//
// Why not Streamlit widgets: the page re-renders every widget's component tree
// on each state change of a rerun (a slider is about fifty React components),
// and a move has several. Here the browser's own inputs do the work; a change is
// reported once (on release, or per arrow key) and the server keeps the values.
//
// data: UTF-8 JSON bytes of {label, applied, scales: {name: [text, ...]},
//   groups: [{key, name, title, color, open, items: [
//     {key, label, scale, index}   a choice along one of the scales
//     {key, label, on}             an on/off switch ]}]}
// reports: trigger "change" with {seq, changes: {key: index or true/false}}.
//
// Every report carries every change the server has not confirmed yet, numbered: Streamlit
// may replace a queued report with a newer one, and nothing is lost that way. ``applied``
// is the number of the last report the server took (a panel made anew, after a visit to
// another page, counts from 1 again and the server follows): until then a control keeps the
// viewer's value (a rerun that started before their latest move would otherwise put it
// back); from then on it shows what the server holds, whatever that is.

function structureOf(data) {
  // What decides the elements; values (index, on) and the groups' default openness do not.
  return JSON.stringify([data.label, data.scales, data.groups.map((g) => [g.key, g.name, g.title, g.color, g.items.map((it) => [it.key, it.label, it.scale || null])])]);
}

function build(root, data, state) {
  // The panel may live in a shadow root: its own activeElement says what has focus.
  const focused = root.getRootNode().activeElement;
  const active = focused && root.contains(focused) ? (focused.name ? ['input', focused.name] : ['group', focused.closest('details')?.dataset.group]) : null;
  root.textContent = '';
  root.setAttribute('role', 'group');
  root.setAttribute('aria-label', data.label || '');
  state.inputs = {};
  const summaries = {};
  for (const g of data.groups) {
    const box = document.createElement('details');
    box.className = 'dl-hp-group';
    box.dataset.group = g.key;
    const byDefault = !!g.open;
    box.open = g.key in state.open ? state.open[g.key] : byDefault;
    // Only the viewer's own choice is kept (setting ``open`` above fires this event too).
    box.addEventListener('toggle', () => {
      if (g.key in state.open || box.open !== byDefault) state.open[g.key] = box.open;
    });
    const summary = document.createElement('summary');
    const swatch = document.createElement('span');
    swatch.className = 'dl-hp-swatch';
    swatch.style.background = g.color || 'currentColor';
    swatch.setAttribute('aria-hidden', 'true');
    summary.append(swatch, document.createTextNode(g.title));
    box.appendChild(summary);
    summaries[g.key] = summary;
    for (const it of g.items) box.appendChild(control(data, state, g, it));
    root.appendChild(box);
  }
  if (active && active[0] === 'input' && state.inputs[active[1]]) state.inputs[active[1]].input.focus();
  else if (active && active[0] === 'group' && summaries[active[1]]) summaries[active[1]].focus();
}

function control(data, state, g, it) {
  const row = document.createElement('div');
  row.className = 'dl-hp-row';
  const id = `dl-hp-${state.uid}-${it.key}`;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = it.label;
  const input = document.createElement('input');
  input.id = id;
  input.name = it.key;
  // Every optimizer has a "learning rate": the accessible name says whose.
  input.setAttribute('aria-label', `${g.name || g.title}: ${it.label}`);
  const out = document.createElement('output');
  out.htmlFor = id;
  out.setAttribute('aria-hidden', 'true');  // the input's own value text says it
  const options = it.scale ? (data.scales || {})[it.scale] : null;
  let slot;
  if (options) {
    input.type = 'range';
    input.min = '0';
    input.max = String(options.length - 1);
    input.step = '1';
    const show = () => {
      const text = options[Number(input.value)];
      out.textContent = text;
      input.setAttribute('aria-valuetext', text);
    };
    // Between "input" and "change" the viewer is dragging: a render must not move the thumb.
    input.addEventListener('input', () => { state.dragging = it.key; show(); });
    input.addEventListener('change', () => { state.dragging = null; send(state, it.key, Number(input.value)); });
    slot = {input, set: (v) => { input.value = String(v.index); show(); }, value: () => Number(input.value), of: (v) => v.index};
  } else {
    input.type = 'checkbox';
    input.setAttribute('role', 'switch');
    input.addEventListener('change', () => send(state, it.key, input.checked));
    slot = {input, set: (v) => { input.checked = !!v.on; }, value: () => input.checked, of: (v) => !!v.on};
  }
  state.inputs[it.key] = slot;
  slot.set(it);
  row.append(label, input, out);
  return row;
}

function send(state, key, value) {
  state.seq += 1;
  state.pending[key] = {value, seq: state.seq};
  const changes = {};
  for (const [k, p] of Object.entries(state.pending)) changes[k] = p.value;
  state.report('change', {seq: state.seq, changes});
}

function update(data, state) {
  const applied = Number(data.applied) || 0;
  for (const [k, p] of Object.entries(state.pending)) if (p.seq <= applied) delete state.pending[k];
  for (const g of data.groups) {
    for (const it of g.items) {
      const slot = state.inputs[it.key];
      if (!slot || it.key in state.pending || it.key === state.dragging) continue;
      if (slot.value() !== slot.of(it)) slot.set(it);
    }
  }
}

let uid = 0;

export default function (component) {
  const root = component.parentElement.querySelector('.dl-hp');
  const raw = component.data;
  if (!root || raw == null) return undefined;
  const state = root.__dl || (root.__dl = {uid: ++uid, raw: null, shape: null, open: {}, pending: {}, seq: 0, dragging: null, inputs: {}});
  state.report = component.setTriggerValue;  // the latest render's reporter
  // Streamlit calls this on every re-render of the page: the same payload is nothing new.
  if (raw === state.raw) return undefined;
  state.raw = raw;
  const data = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
  if (!Array.isArray(data.groups)) return undefined;
  const shape = structureOf(data);
  if (shape !== state.shape) {
    state.shape = shape;
    build(root, data, state);
  }
  update(data, state);
  return undefined;
}
