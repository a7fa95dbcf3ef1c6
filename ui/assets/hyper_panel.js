// Every chosen optimizer's hyperparameters in one element, as native inputs.
//
// Why not Streamlit widgets: the page re-renders every widget's component tree
// on each state change of a rerun (a slider is about fifty React components),
// and a move has several. Here the browser's own inputs do the work; a change is
// reported once (on release, or per arrow key) and the server keeps the values.
//
// data: UTF-8 JSON bytes of {label, scales: {name: [text, ...]}, groups: [{key, title, color, open, items: [
//          {key, label, scale, index}   a choice along one of the scales
//          {key, label, on}             an on/off switch ]}]}
// reports: trigger "change" with {key, index} (a scale) or {key, on} (a switch).

function structureOf(data) {
  // What decides the elements; values (index, on) and the groups' default openness do not.
  return JSON.stringify([data.label, data.scales, data.groups.map((g) => [g.key, g.title, g.color, g.items.map((it) => [it.key, it.label, it.scale || null])])]);
}

function build(root, data, state, report) {
  // The panel may live in a shadow root: its own activeElement says which input has focus.
  const focused = root.getRootNode().activeElement;
  const active = focused && root.contains(focused) ? focused.name : null;
  root.textContent = '';
  root.setAttribute('role', 'group');
  root.setAttribute('aria-label', data.label || '');
  state.inputs = {};
  for (const g of data.groups) {
    const box = document.createElement('details');
    box.className = 'dl-hp-group';
    box.dataset.group = g.key;
    box.open = g.key in state.open ? state.open[g.key] : !!g.open;
    box.addEventListener('toggle', () => { state.open[g.key] = box.open; });
    const summary = document.createElement('summary');
    const swatch = document.createElement('span');
    swatch.className = 'dl-hp-swatch';
    swatch.style.background = g.color || 'currentColor';
    swatch.setAttribute('aria-hidden', 'true');
    summary.append(swatch, document.createTextNode(g.title));
    box.appendChild(summary);
    for (const it of g.items) {
      const row = document.createElement('div');
      row.className = 'dl-hp-row';
      const id = `dl-hp-${state.uid}-${it.key}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = it.label;
      const input = document.createElement('input');
      input.id = id;
      input.name = it.key;
      const out = document.createElement('output');
      out.htmlFor = id;
      const options = it.scale ? (data.scales || {})[it.scale] : null;
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
        input.addEventListener('input', show);
        input.addEventListener('change', () => send(state, report, it.key, {key: it.key, index: Number(input.value)}));
        state.inputs[it.key] = {input, set: (v) => { input.value = String(v.index); show(); }, value: () => Number(input.value), of: (v) => v.index};
      } else {
        input.type = 'checkbox';
        input.setAttribute('role', 'switch');
        input.addEventListener('change', () => send(state, report, it.key, {key: it.key, on: input.checked}));
        state.inputs[it.key] = {input, set: (v) => { input.checked = !!v.on; }, value: () => input.checked, of: (v) => !!v.on};
      }
      state.inputs[it.key].set(it);
      row.append(label, input, out);
      box.appendChild(row);
    }
    root.appendChild(box);
  }
  if (active && state.inputs[active]) state.inputs[active].input.focus();
}

function send(state, report, key, value) {
  state.sent[key] = state.inputs[key].value();
  report('change', value);
}

function update(data, state) {
  for (const g of data.groups) {
    for (const it of g.items) {
      const slot = state.inputs[it.key];
      if (!slot) continue;
      const want = slot.of(it);
      // A value the viewer set and the server has not confirmed yet stays: a rerun started
      // before their latest move would otherwise put the control back.
      if (it.key in state.sent) {
        if (state.sent[it.key] !== want) continue;
        delete state.sent[it.key];
      }
      if (slot.value() !== want) slot.set(it);
    }
  }
}

let uid = 0;

export default function (component) {
  const root = component.parentElement.querySelector('.dl-hp');
  const raw = component.data;
  if (!root || raw == null) return undefined;
  const state = root.__dl || (root.__dl = {uid: ++uid, raw: null, shape: null, open: {}, sent: {}, inputs: {}});
  state.report = component.setTriggerValue;  // the latest render's reporter
  // Streamlit calls this on every re-render of the page: the same payload is nothing new.
  if (raw === state.raw) return undefined;
  state.raw = raw;
  const data = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
  if (!Array.isArray(data.groups)) return undefined;
  const shape = structureOf(data);
  if (shape !== state.shape) {
    state.shape = shape;
    state.sent = {};
    build(root, data, state, (name, value) => state.report(name, value));
  }
  update(data, state);
  return undefined;
}
