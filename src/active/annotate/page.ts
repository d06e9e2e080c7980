/**
 * The annotation page: one self-contained HTML document (no build step, nothing fetched but the
 * API), so `inflow active-learn --serve` works from the installed package. It polls GET /api/state;
 * the engine runs in the server's worker, so the page only shows images, posts labels and reports.
 */
export const annotationPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>inflow · active learning</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  #batch { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
  .item { display: flex; flex-direction: column; align-items: center; gap: .3rem; padding: .4rem; border: 1px solid #ccc; border-radius: 4px; }
  .item img { width: 96px; height: 96px; image-rendering: pixelated; }
  #status { font-weight: 600; }
  #error { color: #b00; }
  table { border-collapse: collapse; margin-top: .5rem; }
  td, th { border: 1px solid #ccc; padding: .2rem .6rem; text-align: right; }
</style>
</head>
<body>
<h1>Active learning: label the next batch</h1>
<p id="about"></p>
<p id="status">starting…</p>
<p id="error" hidden></p>
<form id="form">
  <div id="batch"></div>
  <label>next batch <input id="next-batch" type="number" min="1" step="1" style="width:5em"></label>
  <button id="submit" type="submit" disabled>submit labels</button>
  <span id="note"></span>
</form>
<h2>Held-out accuracy</h2>
<table><thead><tr><th>round</th><th>labels</th><th>accuracy</th><th>macro-F1</th></tr></thead><tbody id="history"></tbody></table>
<script type="module">
const $ = (id) => document.getElementById(id);
let shown = '', rows = -1;

function renderBatch(s) {
  const box = $('batch');
  box.replaceChildren();
  for (const i of s.batch) {
    const item = document.createElement('div');
    item.className = 'item';
    const img = document.createElement('img');
    img.src = '/api/images/' + i + '.png';
    img.alt = 'pool image ' + i;
    const select = document.createElement('select');
    select.dataset.index = String(i);
    select.add(new Option('— class —', ''));
    for (const c of s.classNames) select.add(new Option(c, c));
    item.append(img, document.createTextNode('#' + i), select);
    box.append(item);
  }
}

function render(s) {
  $('about').textContent = s.data + ' · pool ' + s.pool + ' · ' + s.labelled + ' labelled · acquisition ' + s.acquisition + (s.backend ? ' · ' + s.backend : '');
  const key = s.phase + ':' + s.batch.join(',');
  if (key !== shown) {
    shown = key;
    renderBatch(s);
    if (s.phase === 'labelling') $('next-batch').value = String(s.nextBatch);
  }
  $('submit').disabled = s.phase !== 'labelling';
  document.body.dataset.phase = s.phase;
  $('status').textContent =
    s.phase === 'labelling' ? 'label the ' + s.batch.length + ' images below' :
    s.phase === 'training' ? (s.labelled ? 'retraining… ' + (s.progress ? s.progress.done + ' / ' + s.progress.total + ' steps' : '') : 'choosing the first batch…') :
    s.phase === 'done' ? 'every pool image is labelled' :
    s.phase === 'failed' ? 'stopped' : 'starting…';
  $('error').hidden = !s.error;
  $('error').textContent = s.error || '';
  if (s.rounds.length !== rows) {
    rows = s.rounds.length;
    $('history').replaceChildren(...s.rounds.map((r, n) => {
      const tr = document.createElement('tr');
      for (const v of [n + 1, r.labels, (100 * r.accuracy).toFixed(1) + ' %', r.macroF1.toFixed(3)]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }));
  }
}

async function poll() {
  try {
    const r = await fetch('/api/state', { cache: 'no-store' });
    render(await r.json());
  } catch (e) {
    $('status').textContent = 'server unreachable';
  }
  setTimeout(poll, 700);
}

$('form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const labels = [...document.querySelectorAll('#batch select')].filter((s) => s.value).map((s) => ({ index: Number(s.dataset.index), label: s.value }));
  if (!labels.length) { $('note').textContent = 'pick a class for at least one image'; return; }
  const body = { labels };
  const next = Number($('next-batch').value);
  if ($('next-batch').value && next > 0) body.batch = next;
  $('submit').disabled = true;
  const r = await fetch('/api/labels', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  $('note').textContent = r.ok ? j.accepted + ' labels saved' : j.error;
  if (!r.ok) $('submit').disabled = false;
});

poll();
</script>
</body>
</html>
`;
