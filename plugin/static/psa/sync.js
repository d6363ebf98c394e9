/* Billing sync widget (card, Reconciliation Center, Billing Sync pages): the open alert with Acknowledge,
   Sync now, and a progress bar updated live. Polls GET /api/v1/psa_sync/progress every second while a push
   is queued or running (or was just asked for) and stops when idle. Fires `psa:sync-finished` on document
   when a run it watched ends, and `psa:sync-changed` when a new run starts or after an acknowledgement. */
(function () {
  var API = '/api/v1/psa_sync';
  var POLL_MS = 1000, AWAIT_MS = 60000;
  var timer = null, busy = false, watching = false, awaiting = null, lastRunId = null, seen = false;
  var approval = null;  /* the preview Sync now prepared (approval required): shown until a push starts */
  var STATUS = {succeeded: 'label-success', partial: 'label-warning', stopped: 'label-warning',
                failed: 'label-danger', abandoned: 'label-default', running: 'label-info',
                yielded: 'label-info'};
  var ORDER = ['pushed', 'failed', 'blocked', 'skipped', 'recovered'];

  function el(id) { return document.getElementById(id); }
  function root() { return el('psa-sync'); }
  function show(id, on) { var e = el(id); if (e) { e.classList.toggle('hidden', !on); } }
  function text(id, value) { var e = el(id); if (e) { e.textContent = value; } }
  function when(iso) { return psaWhen(iso); }

  function countsText(counts) {
    var keys = Object.keys(counts || {}).sort(function (a, b) {
      var i = ORDER.indexOf(a), j = ORDER.indexOf(b);
      return (i < 0 ? 99 : i) - (j < 0 ? 99 : j);
    });
    var parts = keys.map(function (k) { return counts[k] + ' ' + k; });
    return parts.length ? parts.join(', ') : 'nothing to push';
  }
  window.psaSyncCounts = countsText;
  window.psaSyncStatusClass = function (status) { return STATUS[status] || 'label-default'; };

  function renderAlert(alert) {
    show('sync-alert', !!alert);
    if (!alert) { return; }
    var more = alert.unacknowledged > 1 ? ' (and ' + (alert.unacknowledged - 1) + ' earlier run(s) not acknowledged)' : '';
    text('sync-alert-text', 'Billing sync run #' + alert.run_id + ' ended ' + alert.status + ' on ' +
      when(alert.finished_at) + ': ' + countsText(alert.counts) + '.' + (alert.error ? ' ' + alert.error : '') + more);
    el('sync-alert-link').setAttribute('href', '/psa/sync/runs/' + alert.run_id);
    var ack = el('sync-acknowledge');
    if (ack) { ack.setAttribute('data-run', alert.run_id); ack.disabled = false; }
  }

  function renderProgress(p, queued) {
    var running = !!p || queued;
    show('sync-progress', running);
    show('sync-progress-text', running);
    var bar = el('sync-progress-bar');
    if (!bar || !running) { return; }
    if (!p || p.total === null || p.total === undefined) {  /* a small striped pill until the rows are counted */
      bar.style.width = '0%'; bar.textContent = '…'; bar.setAttribute('aria-valuenow', '0');
      text('sync-progress-text', p ? 'Reading what to push and checking the ConnectWise catalog…' :
        'Waiting for a worker to start the push.');
      return;
    }
    var pct = p.total ? Math.min(100, Math.round(100 * p.done / p.total)) : 100;
    bar.style.width = pct + '%';
    bar.setAttribute('aria-valuenow', String(pct));
    bar.textContent = p.done + ' / ' + p.total;
    var line = el('sync-progress-text');
    line.textContent = p.done + ' of ' + p.total + ' transaction(s) done, ';
    var failures = document.createElement('span');
    failures.className = p.failed ? 'text-danger psa-sync-failures' : 'psa-sync-failures';
    failures.textContent = p.failed ? p.failed + ' failed so far' : 'no failures so far';
    line.append(failures, ' (run #' + p.run_id + ').');
  }

  function renderApproval(box, waiting) {
    box.textContent = 'Approval required: a preview of ' + waiting.transactions + ' transaction(s) (net ' +
      psaMoney(waiting.net) + ') waits for you. ';
    var link = document.createElement('a');
    link.href = waiting.url; link.id = 'sync-review-link'; link.textContent = 'Review and approve';
    box.append(link);
  }

  function renderSummary(s) {
    var box = el('sync-summary');
    if (!box) { return; }
    box.textContent = '';
    if (s.progress || s.queued) {
      approval = null;
      box.textContent = s.progress ? 'Pushing to ConnectWise…' : 'Sync queued…';
      return;
    }
    if (approval) { renderApproval(box, approval); return; }  /* a status read before Sync now answered keeps it */
    var run = s.last_run;
    if (!run) { box.textContent = 'No sync has run yet.'; return; }
    var label = document.createElement('span');
    label.className = 'label ' + (STATUS[run.status] || 'label-default');
    label.textContent = run.status;
    var link = document.createElement('a');
    link.href = '/psa/sync/runs/' + run.id;
    link.textContent = 'run #' + run.id;
    box.append('Last sync ', label, ' ', link, ' — ' + when(run.finished_at || run.started_at) + ': ' + countsText(run.counts));
  }

  function render(s) {
    if (!root()) { return; }
    renderAlert(s.alert);
    renderProgress(s.progress, s.queued);
    renderSummary(s);
    var now = el('sync-now');
    if (now) { now.disabled = !!(s.progress || s.queued || awaiting); }
  }

  function active(s) {
    if (awaiting) {
      var started = s.last_run && s.last_run.id !== awaiting.before;
      if (started || Date.now() > awaiting.until) { awaiting = null; }
    }
    return !!(s.progress || s.queued || awaiting);
  }

  function poll() {
    if (timer) { clearTimeout(timer); }
    timer = null;
    if (!root() || busy) { return; }
    busy = true;
    psaFetch(API + '/progress').then(function (resp) {
      busy = false;
      if (!resp.ok) { text('sync-summary', (resp.body && resp.body.message) || 'Sync status unavailable.'); return; }
      var s = resp.body;
      var going = active(s);
      render(s);
      if (watching && !going) {
        document.dispatchEvent(new CustomEvent('psa:sync-finished', {detail: s.last_run}));
      }
      var newest = s.last_run ? s.last_run.id : null;
      if (seen && going && newest !== lastRunId) { document.dispatchEvent(new CustomEvent('psa:sync-changed')); }
      watching = going;
      seen = true;
      lastRunId = newest;
      if (going && !timer) { timer = setTimeout(poll, POLL_MS); }
    }, function () { busy = false; });
  }

  function syncNow(button) {
    button.disabled = true;
    approval = null;
    awaiting = {before: lastRunId, until: Date.now() + AWAIT_MS};
    return psaFetch(API + '/run', {method: 'POST', json: {}}).then(function (resp) {
      if (!resp.ok) {
        awaiting = null; button.disabled = false;
        text('sync-summary', (resp.body && resp.body.message) || 'The sync could not be started.');
        return resp;
      }
      var waiting = resp.body && !resp.body.job_id && resp.body.awaiting_approval;
      if (resp.body && !resp.body.job_id) {  // approval required: a preview was prepared, nothing pushed yet
        awaiting = null; button.disabled = false;
        var box = document.getElementById('sync-summary');
        if (waiting) { showAwaiting(null); approval = waiting; }
        if (box && waiting) {
          renderApproval(box, waiting);
        } else if (box) {
          box.textContent = 'Nothing to push: every eligible transaction is already in ConnectWise.';
        }
        return resp;
      }
      watching = true;
      poll();
      return resp;
    });
  }

  function acknowledge(button) {
    button.disabled = true;
    psaFetch(API + '/runs/' + button.getAttribute('data-run') + '/acknowledge', {method: 'POST', json: {}}).then(function (resp) {
      if (!resp.ok) { button.disabled = false; text('sync-alert-text', (resp.body && resp.body.message) || 'Could not acknowledge.'); return; }
      document.dispatchEvent(new CustomEvent('psa:sync-changed'));
      poll();
    });
  }

  document.addEventListener('click', function (ev) {
    var target = ev.target.closest('#sync-now, #sync-acknowledge');
    if (!target || target.disabled) { return; }
    if (target.id === 'sync-now') { syncNow(target); } else { acknowledge(target); }
  });

  /* A preview awaiting approval, with its figures and a link to it (where the page has no banner of its own). */
  function showAwaiting(a) {
    var box = el('sync-awaiting');
    if (!box || document.getElementById('approval-banner')) { return; }
    box.textContent = '';
    box.classList.toggle('hidden', !a);
    if (!a) { return; }
    var link = document.createElement('a');
    link.href = a.url; link.id = 'sync-awaiting-link'; link.textContent = 'Review the preview';
    box.append('A billing push awaits approval: ' + a.transactions + ' transaction(s), net ' + psaMoney(a.net) + ', prepared ' +
      (a.source === 'schedule' ? 'by the schedule' : 'by ' + a.prepared_by) + ' on ' + when(a.prepared_at) + '. ', link);
  }
  function loadAwaiting() {
    if (!el('sync-awaiting')) { return; }
    psaFetch(API + '/').then(function (resp) { if (resp.ok) { showAwaiting(resp.body.awaiting_approval || null); } });
  }
  document.addEventListener('psa:sync-finished', loadAwaiting);

  /* For other scripts: refresh now (e.g. after the card is re-rendered), start a push (after Retry failed). */
  window.psaSync = {refresh: function () { poll(); loadAwaiting(); },
                   start: function () { var b = el('sync-now'); return b ? syncNow(b) : null; }};
  poll();
  loadAwaiting();
})();
