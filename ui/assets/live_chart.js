// A Plotly chart that stays mounted across reruns and draws in two layers.
//
// Why: st.plotly_chart gives a chart a new identity whenever its figure changes,
// so every slider move remounts it and Plotly draws the whole figure twice,
// surface included. Here the chart is two elements stacked in one container:
//   back  - the surface (heatmap and level lines): static, and the same bytes on
//           every move, so Streamlit sends it once and it is drawn once;
//   front - everything else (paths, markers, loss panel, play controls) on a
//           transparent background; it owns the axes and every interaction.
// The back follows the front's plot area and axis ranges (zoom, pan, resize).
// A move that changes only trace coordinates (a learning rate, a start point)
// moves those traces with Plotly.animate (no transition) instead of redrawing.
//
// data: UTF-8 JSON bytes (ui/live_chart.py), {name, role, figure, ...}
//   role "back": figure {data, layout}
//   role "front": figure {data, layout, frames | animation, narrow?}, config, clickable, png_name, png_title, label, error_text
//   plotly_url: where this server serves the plotly package's plotly.min.js (ui/live_chart.py)

const pairs = (window.__descentLabCharts = window.__descentLabCharts || {});
const pairOf = (name) => pairs[name] || (pairs[name] = {front: null, back: null});

// -- the chart's own Plotly ---------------------------------------------------------
//
// Loaded once per page by a script element (the browser caches it), then taken back out of
// the globals the file sets (window.Plotly, and window.moduleName from its module wrapper):
// Streamlit's own charts and whatever else the page holds keep the Plotly they had (or
// none), and the memo below patches this instance only. Every element of this component
// shares it through one page-wide record.
const GLOBALS = ['Plotly', 'moduleName'];
const own = (window.__descentLabPlotly = window.__descentLabPlotly || {instance: null, loading: null});

function plotlyReady(url) {
  if (own.instance) return Promise.resolve(own.instance);
  if (!own.loading) {
    own.loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      const saved = GLOBALS.map((name) => [name, Object.prototype.hasOwnProperty.call(window, name), window[name]]);
      const before = window.Plotly;
      script.src = url;
      script.async = true;
      // The load event follows the script's run at once, in the same task: nothing else runs
      // between the file setting window.Plotly and this putting the page's own back.
      script.onload = () => {
        const instance = window.Plotly;
        for (const [name, had, value] of saved) {
          if (had) window[name] = value;
          else delete window[name];
        }
        if (!instance || instance === before || typeof instance.react !== 'function') {
          reject(new Error('Plotly did not load from ' + url));
          return;
        }
        memoizeArrayAttributes(instance);
        own.instance = instance;
        resolve(instance);
      };
      script.onerror = () => reject(new Error('Plotly did not load from ' + url));
      document.head.appendChild(script);
    }).catch((err) => {
      own.loading = null;  // the next draw tries again
      throw err;
    });
  }
  return own.loading;
}

// -- a memo for Plotly's per-trace schema walk -------------------------------------
//
// Every draw (react, animate) recomputes each trace's "array attributes" by walking the
// trace type's whole attribute schema: about 1.5 ms per scatter trace, 30 ms per move for
// the 21 traces of the front layer, half of what a move's animate costs. The answer
// depends only on the trace type and on which of the trace's own attributes hold arrays,
// which a move does not change: remember it under that key. Traces with arrays of objects
// (items linked to arrays) take the original path, and so does everything if this Plotly
// has no such function. The browser tests compare both answers for every drawn trace.

function arrayPaths(value, prefix, out) {
  for (const key of Object.keys(value)) {
    if (key.charCodeAt(0) === 95) continue;  // "_": Plotly's own bookkeeping, not attributes
    const v = value[key];
    if (Array.isArray(v)) {
      if (v.some((x) => x !== null && typeof x === 'object' && !ArrayBuffer.isView(x) && !Array.isArray(x))) return false;
      out.push(prefix + key);
    } else if (ArrayBuffer.isView(v)) {
      out.push(prefix + key);
    } else if (v !== null && typeof v === 'object') {
      if (arrayPaths(v, prefix + key + '.', out) === false) return false;
    }
  }
  return true;
}

function memoizeArrayAttributes(Plotly) {
  const schema = Plotly.PlotSchema;
  if (!schema || typeof schema.findArrayAttributes !== 'function' || schema.findArrayAttributes.original) return;
  const original = schema.findArrayAttributes;
  const memo = new Map();
  const memoized = function (trace) {
    const paths = [];
    if (!trace || typeof trace !== 'object' || arrayPaths(trace, '', paths) === false) return original.call(this, trace);
    const key = JSON.stringify([trace.type, paths.sort()]);  // a name may hold a comma
    let found = memo.get(key);
    if (found === undefined) {
      found = original.call(this, trace);
      if (memo.size < 512) memo.set(key, found);
    }
    return found.slice();
  };
  memoized.original = original;
  schema.findArrayAttributes = memoized;
}

// -- geometry: the back layer lies exactly under the front's plot area ------------

function geometry(gd) {
  const L = gd._fullLayout;
  const s = L._size;
  return {
    margin: {l: s.l, r: s.r, t: s.t, b: s.b, pad: 0, autoexpand: false},
    width: L.width,
    height: L.height,
    'xaxis.range': L.xaxis.range.slice(),
    'yaxis.range': L.yaxis.range.slice(),
    'xaxis.domain': L.xaxis.domain.slice(),
    'yaxis.domain': L.yaxis.domain.slice(),
  };
}

function align(pair) {
  const {front, back} = pair;
  if (!front || !back || !front._fullLayout || !back._fullLayout || !front._fullLayout.xaxis || !back._fullLayout.xaxis) return;
  const want = geometry(front);
  if (JSON.stringify(want) !== JSON.stringify(geometry(back))) own.instance.relayout(back, want);
}

// -- the camera button: both layers composed into one PNG -----------------------

function downloadPng(pair, name) {
  const opts = {format: 'png', scale: 2};
  const load = (url) => new Promise((ok, fail) => { const im = new Image(); im.onload = () => ok(im); im.onerror = fail; im.src = url; });
  const layers = [pair.back, pair.front].filter((gd) => gd && gd._fullLayout);
  Promise.all(layers.map((gd) => own.instance.toImage(gd, opts).then(load))).then((images) => {
    const top = images[images.length - 1];
    const canvas = document.createElement('canvas');
    canvas.width = top.width;
    canvas.height = top.height;
    const ctx = canvas.getContext('2d');
    for (const im of images) ctx.drawImage(im, 0, 0, top.width, top.height);
    const a = document.createElement('a');
    a.href = canvas.toDataURL('image/png');
    a.download = name;
    a.click();
  }).catch((err) => console.error('Descent Lab chart: PNG export failed', err));
}

// -- the animation's frames, rebuilt from the paths ---------------------------------
//
// The server sends the animation as a recipe (figures/paths.py, figure.animation): each
// frame's step, and per run the head at that step and how many points of the run's path
// trace the trail shows (cut), with the head appended when the step is not one of them
// (join); on a data surface the model's curve too. Not the points again: a third of the
// bytes per move. figures.paths.expanded makes the same frames in Python (the offline file,
// the tests), and the browser tests compare the two.

function float32s(a) {
  if (Array.isArray(a) || ArrayBuffer.isView(a)) return a;
  if (!a || a.dtype !== 'f4' || a.shape) throw new Error('animation: a path is not a packed float32 array');
  const text = atob(a.bdata);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function framesOf(fig) {
  const anim = fig.animation;
  const runs = anim.runs.map((r) => ({
    ...r,
    px: float32s(fig.data[r.path].x), py: float32s(fig.data[r.path].y), hx: float32s(r.x), hy: float32s(r.y),
  }));
  return anim.steps.map((step, j) => ({
    name: String(step),
    traces: anim.traces,
    data: runs.flatMap((r) => {
      const cut = r.cut[j];
      const n = cut + r.join[j];
      const tx = new Float32Array(n);
      const ty = new Float32Array(n);
      tx.set(r.px.subarray(0, cut));
      ty.set(r.py.subarray(0, cut));
      if (n > cut) { tx[cut] = r.hx[j]; ty[cut] = r.hy[j]; }
      const frame = [{x: tx, y: ty}, {x: Float32Array.of(r.hx[j]), y: Float32Array.of(r.hy[j])}];
      if (r.curves) frame.push(r.curves[j]);
      return frame;
    }),
  }));
}

// The figure as Plotly takes it: frames made once per message (a redraw reuses them).
const withFrames = (() => {
  const made = new WeakMap();
  return (fig) => {
    if (!fig.animation) return fig;
    if (!made.has(fig)) {
      const {animation, ...rest} = fig;
      made.set(fig, {...rest, frames: framesOf(fig)});
    }
    return made.get(fig);
  };
})();

// -- drawing --------------------------------------------------------------------

function drawBack(Plotly, gd, pair, data) {
  const layout = {...data.figure.layout};
  if (pair.front && pair.front._fullLayout) Object.assign(layout, {margin: geometry(pair.front).margin, width: pair.front._fullLayout.width});
  return Plotly.react(gd, data.figure.data, layout, {staticPlot: true, displayModeBar: false});
}

const coords = (d) => JSON.stringify([d.x, d.y]);
// Everything of a figure but its traces' coordinates and the loss panel's y range:
// when that is unchanged, a move only moves points.
function shapeOf(fig) {
  const layout = {...fig.layout, yaxis2: fig.layout.yaxis2 ? {...fig.layout.yaxis2, range: null} : null};
  return JSON.stringify([fig.data.map((d) => ({...d, x: null, y: null})), layout]);
}

// Whether a loss range ``want`` can be shown as ``shown``: inside it, and at least half of it.
function fits(want, shown) {
  const [lo, hi] = shown;
  return lo < hi && want[0] >= lo && want[1] <= hi && want[1] - want[0] >= 0.5 * (hi - lo);
}

function moveOnly(Plotly, gd, state, fig) {
  const before = state.figure;
  // If the viewer played or scrubbed since the last draw, the traces the frames move are
  // as they left them (paused mid-way, say): set them all back. Otherwise only the traces
  // whose points changed move.
  const animated = new Set((!state.atRest && fig.frames && fig.frames.length && fig.frames[0].traces) || []);
  const changed = fig.data.map((d, i) => i).filter((i) => animated.has(i) || coords(fig.data[i]) !== coords(before.data[i]));
  if (changed.some((i) => (fig.data[i].type || 'scatter') !== 'scatter')) return null;
  // The animation frames belong to the new paths. Same shape, same frame names (the
  // scrub slider's steps are part of the shape): adding a frame by name replaces it.
  const frames = Promise.resolve(Plotly.addFrames(gd, fig.frames || []));
  const update = {data: changed.map((i) => ({x: fig.data[i].x, y: fig.data[i].y})), traces: changed};
  // The loss panel's range only when the curves no longer fit or would be squeezed into a
  // small part of it: a new range redraws that axis, ticks and labels, frame by frame.
  const want = fig.layout.yaxis2 && fig.layout.yaxis2.range;
  const shown = gd._fullLayout.yaxis2 && gd._fullLayout.yaxis2.range;
  if (want && !(shown && fits(want, shown))) update.layout = {yaxis2: {range: want}};
  const opts = {mode: 'immediate', transition: {duration: 0}, frame: {duration: 0, redraw: false}};
  return frames
    .then(() => (changed.length || update.layout ? Plotly.animate(gd, update, opts) : null))
    .then(() => {
      // Back to the resting state: the scrub slider on the last frame, as a full draw leaves it.
      const sliders = fig.layout.sliders || [];
      const active = gd._fullLayout.sliders && gd._fullLayout.sliders[0] ? gd._fullLayout.sliders[0].active : null;
      if (sliders.length && active !== sliders[0].active) return Plotly.relayout(gd, {'sliders[0].active': sliders[0].active});
      return null;
    });
}

// A figure with a side panel (the data beside a model's loss surface) carries the layout
// for a narrow screen too, the panel below the contour: figure.narrow = {layout, marker}
// (marker: what changes in the colorbar's stand-in trace there).
const NARROW_PX = 640;
const isNarrow = (fig, gd) => !!fig.narrow && gd.clientWidth > 0 && gd.clientWidth < NARROW_PX;

function fitted(fig, narrow, size) {
  if (size) return toWindow(fig, size);
  if (!narrow) return {data: fig.data, layout: fig.layout};
  const data = fig.data.map((d) =>
    d.meta === 'colorbar-only' ? {...d, marker: {...d.marker, ...fig.narrow.marker}} : d);
  return {data, layout: fig.narrow.layout};
}

// -- presenter mode: the chart fills the window from where it starts -------------------
//
// A figure made for a projector carries layout.meta.fit (figures.path_figure, fit_window):
// {window, min_font, min_panels}. The server cannot know the window, so the browser lays
// the figure out again for it: the chart runs from its top to the window's bottom edge,
// text at the server's font size in a window `window` px tall, smaller in proportion in a
// lower one but never under `min_font`. The rows that hold text (margins, and between the
// contour and the loss panel its x axis, the play controls and the panel's title) scale
// with the font; the contour and the loss panel share the rest as the server shared them,
// and together keep at least `min_panels` px (below that the page scrolls).
const BOTTOM_GAP_PX = 8;

const fitOf = (fig) => (fig.layout.meta && fig.layout.meta.fit) || null;

// The element's top with every scroll container scrolled back to its start.
function pageTop(el) {
  let top = el.getBoundingClientRect().top + window.scrollY;
  for (let p = el.parentElement; p; p = p.parentElement) top += p.scrollTop;
  return top;
}

// The font and height the front takes in this window, and the margins its plot area is counted
// within; null when it keeps the server's layout. `pushed`: the margins Plotly widened to last
// time (a legend in two rows), for this font and width.
function windowSize(fig, gd, pushed) {
  const fit = fitOf(fig);
  if (!fit || !gd.getClientRects().length) return null;
  const L = fig.layout;
  const font = Math.max(fit.min_font, Math.min(L.font.size, Math.round((L.font.size * window.innerHeight) / fit.window)));
  const k = font / L.font.size;
  const key = font + '|' + gd.clientWidth;
  const margin = pushed && pushed.key === key ? pushed : {t: L.margin.t * k, b: L.margin.b * k};
  const rows = margin.t + margin.b + gapOf(L) * k;
  const height = Math.max(Math.floor(window.innerHeight - pageTop(gd) - BOTTOM_GAP_PX), Math.ceil(rows + fit.min_panels));
  return {font, height, t: margin.t, b: margin.b, key};
}

// In px: what lies between the contour's bottom and the loss panel's top (0 without the panel).
function gapOf(L) {
  if (!L.yaxis2) return 0;
  return (L.yaxis.domain[0] - L.yaxis2.domain[1]) * (L.height - L.margin.t - L.margin.b);
}

// fig laid out at `size`: domains are fractions of the plot area between the margins.
function toWindow(fig, size) {
  const L = fig.layout;
  const k = size.font / L.font.size;
  const plot = size.height - size.t - size.b;
  const gap = gapOf(L) * k;
  const lossTop0 = L.yaxis2 ? L.yaxis2.domain[1] : 0;
  const share = lossTop0 / (1 - L.yaxis.domain[0] + lossTop0);  // the loss panel's part of both panels
  const lossTop = ((plot - gap) * share) / plot;
  const low = L.yaxis2 ? lossTop + gap / plot : 0;  // the contour's bottom
  const at = (items) => (items || []).map((m) => ({...m, y: low, pad: {...m.pad, t: (m.pad && m.pad.t ? m.pad.t : 0) * k}}));
  const layout = {
    ...L,
    height: size.height,
    font: {...L.font, size: size.font},
    // Plotly widens these as needed (see notePushed): given as they scale, never as last pushed.
    margin: {...L.margin, t: L.margin.t * k, b: L.margin.b * k},
    yaxis: {...L.yaxis, domain: [low, 1]},
    updatemenus: at(L.updatemenus),
    sliders: at(L.sliders),
  };
  if (L.yaxis3) layout.yaxis3 = {...L.yaxis3, domain: [low, 1]};  // a data panel beside the contour
  if (L.yaxis2) {
    layout.yaxis2 = {...L.yaxis2, domain: [0, lossTop]};
    layout.annotations = (L.annotations || []).map((a) => (a.yref === 'paper' && Math.abs(a.y - lossTop0) < 1e-9 ? {...a, y: lossTop} : a));
  }
  const data = fig.data.map((d) =>
    d.meta === 'colorbar-only' ? {...d, marker: {...d.marker, colorbar: {...d.marker.colorbar, len: 1 - low}}} : d);
  return {data, layout};
}

// Lay the front out again if the window, the chart's width or what stands above it changed.
function refit(gd, pair, state) {
  if (!state.data || state.narrow) return;
  const size = windowSize(state.data.figure, gd, state.pushed);
  if (!size || JSON.stringify(size) === JSON.stringify(state.size)) return;
  const data = state.data;
  state.queue = state.queue
    .then(() => drawFront(own.instance, gd, pair, state, data))
    .then(() => align(pair))
    .catch((err) => report(gd, state, err));
}

// Plotly widens a margin for what does not fit in it (a legend in two rows): when the plot
// area drawn is not the one counted with, the next layout counts with the margins as drawn.
function notePushed(gd, state) {
  const s = gd._fullLayout && gd._fullLayout._size;
  if (!state.size || !s) return false;
  if (Math.abs(s.t - state.size.t) < 0.5 && Math.abs(s.b - state.size.b) < 0.5) return false;
  state.pushed = {t: s.t, b: s.b, key: state.size.key};
  return true;
}

// ``fn`` at the next frame, once however many calls came before it (resizes, relayouts).
function onceAFrame(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fn(); });
  };
}

function installFit(gd, pair, state) {
  state.fitInstalled = true;
  const later = onceAFrame(() => refit(gd, pair, state));
  window.addEventListener('resize', later);
  // What stands above the chart can grow or shrink after it is drawn (the view switch, a notice).
  const page = gd.closest('[data-testid=stMainBlockContainer]') || document.body;
  state.fitObserver = new ResizeObserver(later);
  state.fitObserver.observe(page);
  state.removeFit = () => { window.removeEventListener('resize', later); state.fitObserver.disconnect(); };
  state.refitLater = later;
}

function drawFront(Plotly, gd, pair, state, data) {
  const fig = withFrames(data.figure);
  const narrow = isNarrow(fig, gd);
  const size = narrow ? null : windowSize(fig, gd, state.pushed);
  const shape = shapeOf(fig) + (narrow ? '|narrow' : '') + (size ? '|' + JSON.stringify(size) : '');
  state.clickable = !!data.clickable;
  state.pngName = data.png_name || 'chart.png';
  let done = null;
  if (state.figure && state.shape === shape && gd._fullLayout) done = moveOnly(Plotly, gd, state, fig);
  if (done === null) {
    // The same button object while its tooltip is the same: Plotly compares configs, and
    // a new function each time would make every react a full new plot.
    const title = data.png_title || 'PNG';
    if (!state.png || state.png.title !== title) {
      state.png = {name: 'png', title, icon: Plotly.Icons.camera, click: () => downloadPng(pair, state.pngName)};
    }
    const config = {...data.config, modeBarButtonsToRemove: ['toImage'], modeBarButtonsToAdd: [state.png]};
    const view = fitted(fig, narrow, size);
    done = Plotly.react(gd, {data: view.data, layout: view.layout, frames: fig.frames || [], config});
  }
  return Promise.resolve(done).then(() => {
    // Only what was drawn is what the next move compares against.
    state.figure = fig;
    state.shape = shape;
    state.data = data;
    state.narrow = narrow;
    state.size = size;
    gd.setAttribute('data-narrow', narrow ? 'true' : 'false');
    state.atRest = true;
    if (!state.installed) install(gd, pair, state);
    if (size && !state.fitInstalled) installFit(gd, pair, state);
    if (size && notePushed(gd, state)) state.refitLater();
  });
}

// -- where the mouse is, in the contour's coordinates --------------------------------

// A "nice" grid for the contour's window: about 200 steps across, a power of ten, and
// no finer than the start inputs' three decimals.
function grid(axis) {
  const span = Math.abs(axis.range[1] - axis.range[0]) || 1;
  return Math.max(1e-3, Math.pow(10, Math.floor(Math.log10(span / 200))));
}

function snap(value, step) {
  return Number((Math.round(value / step) * step).toFixed(12));
}

// The data point under a mouse event, if it is over the contour's plot area (not the loss panel).
function pointAt(gd, ev) {
  const L = gd._fullLayout;
  const area = gd.querySelector('.nsewdrag[data-subplot="xy"]');
  if (!L || !L.xaxis || !area) return null;
  const r = area.getBoundingClientRect();
  const px = ev.clientX - r.left;
  const py = ev.clientY - r.top;
  if (px < 0 || py < 0 || px > r.width || py > r.height) return null;
  const xs = grid(L.xaxis);
  const ys = grid(L.yaxis);
  const digits = (step) => Math.max(0, -Math.round(Math.log10(step)));
  return {x: snap(L.xaxis.p2d(px), xs), y: snap(L.yaxis.p2d(py), ys), dx: digits(xs), dy: digits(ys)};
}

// A click or a tap (not a drag, not half of a double click) on the contour reports its
// point; the readout in the plot's corner shows the point a click would give. Pointer
// events: on touch screens Plotly stops the browser's emulated mouse events.
function installPointer(gd, state) {
  const readout = gd.parentElement.querySelector('.dl-cursor');
  let down = null;
  let pending = null;
  let lastUp = 0;
  const show = (p) => {
    if (!readout) return;
    if (!p) { readout.classList.remove('on'); return; }
    const L = gd._fullLayout;
    const s = L._size;
    // The contour's own top-right corner: it may share the plot area with a panel beside or below it.
    readout.style.right = L.width - (s.l + s.w * L.xaxis.domain[1]) + 6 + 'px';
    readout.style.top = s.t + s.h * (1 - L.yaxis.domain[1]) + 4 + 'px';
    readout.textContent = '(' + p.x.toFixed(p.dx) + ', ' + p.y.toFixed(p.dy) + ')';
    readout.classList.add('on');
  };
  gd.addEventListener('pointermove', (ev) => show(state.clickable ? pointAt(gd, ev) : null));
  gd.addEventListener('pointerleave', () => show(null));
  gd.addEventListener('pointerdown', (ev) => { down = [ev.clientX, ev.clientY]; }, true);
  // On the document: Plotly may lay a cover over the page while the button is down.
  const onUp = (ev) => {
    const moved = !down || Math.hypot(ev.clientX - down[0], ev.clientY - down[1]) > 4;
    down = null;
    const p = state.clickable && !moved ? pointAt(gd, ev) : null;
    if (!p) return;
    const now = performance.now();
    clearTimeout(pending);
    // Plotly resets the zoom on a double click: that is not a new start.
    if (now - lastUp < 300) { lastUp = 0; return; }
    lastUp = now;
    pending = setTimeout(() => state.setTriggerValue('click', {x: p.x, y: p.y}), 300);
  };
  document.addEventListener('pointerup', onUp, true);
  state.removePointer = () => document.removeEventListener('pointerup', onUp, true);
}

function install(gd, pair, state) {
  state.installed = true;
  const follow = onceAFrame(() => align(pair));
  gd.on('plotly_relayout', follow);
  gd.on('plotly_relayouting', follow);
  gd.on('plotly_afterplot', follow);
  // A named frame is the viewer's play or scrub (a move's own update has no name).
  gd.on('plotly_animatingframe', (ev) => { if (ev && ev.name != null) state.atRest = false; });
  gd.on('plotly_sliderchange', () => { state.atRest = false; });
  installPointer(gd, state);
  // Not while hidden (another tab, a page being left): Plotly cannot measure a hidden div.
  state.observer = new ResizeObserver(() => {
    if (!gd._fullLayout || !gd.getClientRects().length) return;
    if (state.data && state.data.figure.narrow && isNarrow(state.data.figure, gd) !== state.narrow) {
      // Across the narrow-screen width: the side panel moves below the contour, or back.
      const data = state.data;
      state.shape = null;
      state.queue = state.queue
        .then(() => drawFront(own.instance, gd, pair, state, data))
        .then(() => align(pair))
        .catch((err) => report(gd, state, err));
      return;
    }
    Promise.resolve(own.instance.Plots.resize(gd)).catch(() => {});
    if (state.refitLater) state.refitLater();
  });
  state.observer.observe(gd);
}

function report(gd, state, err) {
  // Drawn nothing, or half: the next payload, even the same bytes again, draws afresh.
  state.atRest = false;
  state.raw = null;
  state.text = null;
  state.figure = null;
  state.shape = null;
  const message = String(err && err.message ? err.message : err);
  gd.setAttribute('data-error', message);
  const box = gd.parentElement.querySelector('.dl-error');
  if (box) {
    box.textContent = (state.errorText || 'The chart could not be drawn') + ': ' + message;
    box.classList.add('on');
  }
  console.error('Descent Lab chart:', err);
}

export default function (component) {
  const gd = component.parentElement.querySelector('.dl-layer');
  if (!gd || component.data == null) return undefined;
  const raw = component.data;
  const state = gd.__dl || (gd.__dl = {raw: null, text: null, queue: Promise.resolve(), installed: false, atRest: false});
  state.setTriggerValue = component.setTriggerValue;
  const cleanup = () => {
    // Streamlit also calls this when a newer render overtakes this one: only a chart that
    // has left the page is taken down.
    if (gd.isConnected) return;
    if (state.observer) state.observer.disconnect();
    if (state.removePointer) state.removePointer();
    if (state.removeFit) state.removeFit();
    if (own.instance && gd._fullLayout) own.instance.purge(gd);
    for (const name of Object.keys(pairs)) {
      for (const role of ['front', 'back']) if (pairs[name][role] === gd) pairs[name][role] = null;
    }
  };
  // Streamlit calls this on every re-render of the page, several times per move: the same
  // payload object is nothing new, and the same bytes (the back layer, on most moves) neither.
  if (raw === state.raw) return cleanup;
  state.raw = raw;
  const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw);
  if (text === state.text) return cleanup;
  state.text = text;
  const data = JSON.parse(text);
  const pair = pairOf(data.name);
  pair[data.role] = gd;
  state.errorText = data.error_text;
  gd.setAttribute('data-layer', data.role);
  if (data.role === 'front') {
    // Focusable and named: keyboard and screen-reader users reach the chart.
    gd.tabIndex = 0;
    gd.setAttribute('role', 'figure');
    if (data.label) gd.setAttribute('aria-label', data.label);
  }
  // Draws happen in order: a fast second move waits for the first to finish.
  state.queue = state.queue
    .then(() => plotlyReady(data.plotly_url))
    .then((Plotly) => {
      return data.role === 'back' ? drawBack(Plotly, gd, pair, data) : drawFront(Plotly, gd, pair, state, data);
    })
    .then(() => {
      align(pair);
      gd.removeAttribute('data-error');
      const box = gd.parentElement.querySelector('.dl-error');
      if (box) box.classList.remove('on');
    })
    .catch((err) => report(gd, state, err));
  return cleanup;
}
