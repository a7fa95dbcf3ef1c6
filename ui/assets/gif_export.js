// The Playground's race as an animated GIF, made in this browser from the path chart's own frames.
//
// The live chart (live_chart.js) is two stacked Plotly layers: the surface (static) and the
// front (paths, loss panel, play controls, the animation's frames). The back is rendered once;
// then for each frame the front is put in that frame's state (Plotly.animate, no transition),
// rendered at the chart's size, composed over the back and written as one GIF image. A GIF
// holds at most 256 colours: one palette for all frames, built from a few of them plus the
// traces' own colours (so every optimizer keeps its exact colour), and each image after the
// first stores only the pixels that changed (the rest transparent over the previous one),
// which keeps the benchmark scenario's 40 frames well under a slide's 5 MB. The chart is put
// back as it was, and the file offered as a download.
//
// Loaded on demand (import()) by the export button, never with the chart: nothing here costs
// a slider move anything.

import {GIFEncoder, applyPalette, quantize} from './vendor/gifenc/gifenc.esm.js';

/** Widest GIF written, in px: a wider chart is scaled down to this (a slide is ~1000 px wide). */
export const MAX_WIDTH = 1000;
/** How long the last frame stays before the GIF loops, in ms: the finished race, readable. */
export const HOLD_LAST_MS = 1500;
/** Frame duration when the figure's play menu gives none, in ms. */
const DEFAULT_FRAME_MS = 60;
/** Frames sampled to build the shared palette: first, middle, last. */
const PALETTE_SAMPLES = 3;
const COLOURS = 256;

let running = null;  // the export under way: only one at a time

/** Whether an export is under way. */
export const busy = () => running !== null;

/** The GIF's size for a chart ``width`` x ``height`` CSS px: the chart's own, scaled down to ``MAX_WIDTH``. */
export function gifSize(width, height) {
  const scale = Math.min(1, MAX_WIDTH / width);
  return {width: Math.round(width * scale), height: Math.round(height * scale)};
}

/**
 * The animation's frame duration in ms: the play button at 1x (the menu's middle speed
 * when no label says 1x), as the figure's updatemenus set it (figures/paths.py).
 */
export function frameDuration(layout) {
  const menu = (layout.updatemenus || [])[0];
  const plays = ((menu && menu.buttons) || []).filter((b) => b.method === 'animate' && b.args && b.args[0] === null && b.args[1] && b.args[1].frame && b.args[1].frame.duration > 0);
  if (!plays.length) return DEFAULT_FRAME_MS;
  const one = plays.find((b) => /(^|\s)1×$/.test(String(b.label || '')));
  const ms = plays.map((b) => b.args[1].frame.duration).sort((a, b) => a - b);
  return one ? one.args[1].frame.duration : ms[Math.floor(ms.length / 2)];
}

/** '#rrggbb', '#rgb' or 'rgb(r, g, b)' as [r, g, b]; null for anything else (named, transparent). */
export function parseColour(text) {
  const s = String(text || '').trim();
  let m = /^#([0-9a-f]{6})$/i.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m[1][i] + m[1][i], 16));
  m = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(s);
  if (m && (m[4] === undefined || Number(m[4]) >= 1)) return [1, 2, 3].map((i) => Math.min(255, Number(m[i])));
  return null;
}

/** The opaque line and marker colours of the front layer's traces, each once: kept exact in the palette. */
function traceColours(gd) {
  const seen = new Map();
  for (const d of gd._fullData || []) {
    for (const c of [d.line && d.line.color, d.marker && d.marker.color]) {
      const rgb = typeof c === 'string' ? parseColour(c) : null;
      if (rgb) seen.set(rgb.join(','), rgb);
    }
  }
  return [...seen.values()];
}

/**
 * One palette for every frame: at most ``COLOURS - 1`` entries (the last index is the
 * transparent "unchanged" pixel), the trace colours exactly, the rest quantized from samples.
 */
export function sharedPalette(samples, exact) {
  const keep = exact.slice(0, 64);
  const total = samples.reduce((n, s) => n + s.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const s of samples) { all.set(s, at); at += s.length; }
  const rest = quantize(all, COLOURS - 1 - keep.length, {format: 'rgb565'});
  return keep.concat(rest.map((c) => c.slice(0, 3)));
}

/** ``index`` with every pixel equal to ``previous``'s set to ``transparent`` (a new array). */
export function changedOnly(index, previous, transparent) {
  const out = new Uint8Array(index.length);
  for (let i = 0; i < index.length; i++) out[i] = index[i] === previous[i] ? transparent : index[i];
  return out;
}

const loadImage = (url) => new Promise((ok, fail) => {
  const im = new Image();
  im.onload = () => ok(im);
  im.onerror = () => fail(new Error('a chart image did not load'));
  im.src = url;
});

const nextTask = () => new Promise((ok) => setTimeout(ok, 0));

/** The layer ``gd`` as an image at its own size (SVG: no PNG encode and decode per frame). */
const render = (Plotly, gd) => Plotly.toImage(gd, {format: 'svg'}).then(loadImage);

/** The front layer in frame ``name``'s state, without a transition. */
const showFrame = (Plotly, gd, name) =>
  Plotly.animate(gd, [name], {mode: 'immediate', transition: {duration: 0}, frame: {duration: 0, redraw: false}});

function snapshot(gd, traces) {
  const slider = gd._fullLayout.sliders && gd._fullLayout.sliders[0];
  return {
    data: traces.map((i) => ({x: gd.data[i].x, y: gd.data[i].y})),
    active: slider ? slider.active : null,
  };
}

async function restore(Plotly, gd, traces, saved) {
  const opts = {mode: 'immediate', transition: {duration: 0}, frame: {duration: 0, redraw: false}};
  await Plotly.animate(gd, {data: saved.data, traces}, opts);
  const slider = gd._fullLayout.sliders && gd._fullLayout.sliders[0];
  if (saved.active !== null && slider && slider.active !== saved.active) await Plotly.relayout(gd, {'sliders[0].active': saved.active});
}

/**
 * Encode the animation of ``pair`` ({front, back}: the chart's Plotly divs) with ``Plotly``
 * (the chart's own instance). ``onProgress(fraction)`` is called as frames are written.
 * Resolves to the GIF's bytes; the chart is left as it was.
 */
async function encode(Plotly, pair, onProgress) {
  const front = pair.front;
  const frames = (front._transitionData && front._transitionData._frames) || [];
  if (!frames.length) throw new Error('the chart has no animation frames');
  const L = front._fullLayout;
  const {width, height} = gifSize(L.width, L.height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const back = pair.back && pair.back._fullLayout ? await render(Plotly, pair.back) : null;
  const pixels = async (name) => {
    await showFrame(Plotly, front, name);
    const im = await render(Plotly, front);
    ctx.fillStyle = '#ffffff';  // a GIF pixel is opaque: the page's white under transparent layers
    ctx.fillRect(0, 0, width, height);
    if (back) ctx.drawImage(back, 0, 0, width, height);
    ctx.drawImage(im, 0, 0, width, height);
    await nextTask();  // let the page breathe between frames
    return ctx.getImageData(0, 0, width, height).data;
  };

  const traces = [...new Set(frames.flatMap((f) => f.traces || []))];
  const saved = snapshot(front, traces);
  const steps = frames.length + PALETTE_SAMPLES;
  let done = 0;
  try {
    const picks = [...new Set([0, Math.floor(frames.length / 2), frames.length - 1])];
    const samples = [];
    for (const k of picks) {
      samples.push(await pixels(frames[k].name));
      onProgress(++done / steps);
    }
    const palette = sharedPalette(samples, traceColours(front));
    const transparent = palette.length;
    const table = palette.concat([[0, 0, 0]]);
    const delay = frameDuration(L);
    const gif = GIFEncoder();
    let previous = null;
    for (let k = 0; k < frames.length; k++) {
      const index = applyPalette(await pixels(frames[k].name), palette, 'rgb565');
      const hold = k === frames.length - 1 ? HOLD_LAST_MS : delay;
      if (previous === null) gif.writeFrame(index, width, height, {palette: table, delay: hold, repeat: 0, dispose: 1});
      else gif.writeFrame(changedOnly(index, previous, transparent), width, height, {delay: hold, transparent: true, transparentIndex: transparent, dispose: 1});
      previous = index;
      onProgress(++done / steps);
    }
    gif.finish();
    return gif.bytes();
  } finally {
    await restore(Plotly, front, traces, saved);
  }
}

function offer(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], {type: 'image/gif'}));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();  // detached: a click on the page would close the popover holding the button
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Make the GIF of chart ``chart`` (its name in ``window.__descentLabCharts``) and offer it as
 * ``name``. Only one export at a time: while one runs, this returns that one's promise.
 * The export waits for the chart's pending draws and holds the next ones (its draw queue,
 * ``state.queue`` of live_chart.js) so that every frame belongs to one figure.
 * Resolves to {bytes, width, height, frames}.
 */
export function exportGif(chart, name, onProgress = () => {}) {
  if (running) return running;
  const pair = (window.__descentLabCharts || {})[chart];
  const Plotly = window.__descentLabPlotly && window.__descentLabPlotly.instance;
  if (!pair || !pair.front || !pair.front._fullLayout || !Plotly) return Promise.reject(new Error('the chart is not drawn yet'));
  const state = pair.front.__dl || {queue: Promise.resolve()};
  const job = state.queue.then(async () => {
    const atRest = state.atRest;
    const bytes = await encode(Plotly, pair, onProgress);
    state.atRest = atRest;  // the frames shown for the GIF were not the viewer's play
    offer(bytes, name);
    const {width, height} = gifSize(pair.front._fullLayout.width, pair.front._fullLayout.height);
    return {bytes, width, height, frames: pair.front._transitionData._frames.length};
  });
  state.queue = job.catch(() => {});
  running = job.finally(() => { running = null; });
  return running;
}
