// The "Download GIF" button of the Playground's Export panel (ui/live_chart.gif_button).
//
// data: {chart, name, label, progress, error, module_url}
//   chart: the live chart's name (window.__descentLabCharts); name: the file's name;
//   label, progress ("... {percent}%"), error: the texts, in the page's language;
//   module_url: where this server serves gif_export.js, loaded on the first click only.

const percent = (text, fraction) => String(text).replace('{percent}', String(Math.round(100 * fraction)));

export default function (component) {
  const data = component.data;
  const root = component.parentElement.querySelector('.dl-gif');
  if (!root || !data) return undefined;
  const button = root.querySelector('button');
  const status = root.querySelector('[role=status]');
  if (!button.disabled) button.textContent = data.label;
  // A property, not a listener: each render of the panel replaces the one before.
  button.onclick = () => {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    status.classList.remove('dl-gif-error');
    status.textContent = percent(data.progress, 0);
    const show = (fraction) => { status.textContent = percent(data.progress, fraction); };
    import(new URL(data.module_url, document.baseURI).href)
      .then((gif) => gif.exportGif(data.chart, data.name, show))
      .then(() => { status.textContent = ''; })
      .catch((err) => {
        status.classList.add('dl-gif-error');
        status.textContent = data.error + ': ' + String(err && err.message ? err.message : err);
        console.warn('Descent Lab: GIF export failed', err);
      })
      .finally(() => {
        button.disabled = false;
        button.removeAttribute('aria-busy');
        button.textContent = data.label;
      });
  };
  return undefined;
}
