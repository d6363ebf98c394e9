/* Billing Sync pages: the run history (paged) and one run with its failed rows (paged), Retry selected / all
   then Sync now. Lists come from /api/v1/psa_sync/ and reload when the widget (sync.js) sees a run end. */
(function ($) {
  var root = document.getElementById('sync-history');
  if (!root) { return; }
  var API = '/api/v1/psa_sync';
  var runId = root.getAttribute('data-run');
  var canWrite = root.getAttribute('data-can-write') === 'true';
  var RUNS_PAGE = 20, ROWS_PAGE = 25;
  var state = {page: 1};

  function when(iso) { return psaWhen(iso, {empty: '—'}); }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return '—'; }
    if (seconds < 60) { return seconds.toFixed(1) + ' s'; }
    var m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    return m < 60 ? m + ' min ' + s + ' s' : Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function money(amount, currency) { return psaMoney(amount, currency); }
  function message(kind, textValue) {
    $('#history-alert').removeClass('hidden alert-success alert-danger alert-info').addClass('alert-' + kind).text(textValue);
  }
  function failed(resp) { message('danger', (resp.body && resp.body.message) || ('Request failed (' + resp.status + ').')); }
  function statusLabel(status) {
    return $('<span class="label"></span>').addClass(window.psaSyncStatusClass(status)).text(status);
  }
  function calls(run) {
    return run.psa_calls + ' (' + run.writes + ' writes · ' + run.lookups + ' lookups · ' + run.catalog_calls + ' catalog)';
  }

  /* ---- the run history ---- */
  function loadRuns() {
    return psaFetch(API + '/runs?page=' + state.page + '&page_size=' + RUNS_PAGE).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $body = $('#runs-table tbody').empty();
      if (!resp.body.result.length) { $body.append($('<tr><td colspan="8" class="text-muted">No sync has run yet.</td></tr>')); }
      resp.body.result.forEach(function (run) {
        var $status = $('<td></td>').append(statusLabel(run.status));
        if (run.continues_run_id) { $status.append($('<div class="small text-muted psa-continues"></div>').text('continues #' + run.continues_run_id)); }
        if (run.alert) { $status.append(' ', $('<span class="label label-danger psa-needs-ack"></span>').text('not acknowledged')); }
        else if (run.acknowledged_by) { $status.append($('<div class="small text-muted"></div>').text('acknowledged by ' + run.acknowledged_by)); }
        var $tr = $('<tr class="psa-run"></tr>').attr('data-run', run.id).toggleClass('psa-run-alert', run.alert).append(
          $('<td></td>').append($('<a class="psa-run-link"></a>').attr('href', '/psa/sync/runs/' + run.id).text('#' + run.id)),
          $('<td></td>').text(when(run.started_at)), $('<td></td>').text(when(run.finished_at)),
          $('<td></td>').text(duration(run.duration_seconds)), $status,
          $('<td class="psa-run-counts"></td>').text(window.psaSyncCounts(run.counts) + (run.error ? ' — ' + run.error : '')),
          $('<td class="text-right"></td>').text(calls(run)), $('<td></td>').text(run.requested_by));
        $body.append($tr);
      });
      psaPager('#runs-pager', state.page, resp.body.total, RUNS_PAGE, function (p) { state.page = p; loadRuns(); });
    });
  }

  /* ---- one run and its failed rows ---- */
  function figures(run) {
    var $dl = $('#run-figures').empty();
    function row(label, value) { $dl.append($('<dt></dt>').text(label), $('<dd></dd>').text(value)); }
    $('#run-status').attr('class', 'label ' + window.psaSyncStatusClass(run.status)).text(run.status);
    row('Started', when(run.started_at));
    row('Ended', when(run.finished_at));
    row('Duration', duration(run.duration_seconds));
    row('Requested by', run.requested_by);
    if (run.continues_run_id) { row('Continues', 'run #' + run.continues_run_id + ' (a push delivered in slices)'); }
    row('Rows by outcome', window.psaSyncCounts(run.counts));
    if (run.status === 'running') {
      row('Progress', run.progress.done + ' of ' + (run.progress.total === null ? '?' : run.progress.total) + ' done, ' + run.progress.failed + ' failed so far');
    }
    row('ConnectWise calls', calls(run));
    if (run.not_foreseen) { row('Not foreseen', run.not_foreseen + ' row(s) ConnectWise refused that no pre-flight check foresaw'); }
    if (run.error) { row(run.status === 'yielded' ? 'Why it yielded' : 'Why it stopped', run.error); }
    if (run.acknowledged_by) { row('Acknowledged', run.acknowledged_by + ', ' + when(run.acknowledged_at)); }
    else if (run.alert) { row('Alert', 'not acknowledged yet'); }
  }

  function subscriptionLink(r) {
    return '/psa/reconciliation/#subscriptions&customer=' + r.customer_id + '&subscription=' + r.subscription_id +
      '&q=' + encodeURIComponent(r.customer);
  }

  function loadRun() {
    return psaFetch(API + '/runs/' + runId + '/failed?page=' + state.page + '&page_size=' + ROWS_PAGE).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      figures(resp.body.run);
      $('#failed-total').text(resp.body.total + ' row(s)');
      var $body = $('#failed-table tbody').empty();
      if (!resp.body.result.length) { $body.append($('<tr><td colspan="9" class="text-muted">No row failed in this run.</td></tr>')); }
      resp.body.result.forEach(function (r) {
        var $tr = $('<tr class="psa-failed-row"></tr>').attr('data-item', r.item_id);
        if (canWrite) {
          var $pick = $('<input type="checkbox" class="failed-pick">').val(r.item_id).attr('aria-label', 'Select ' + r.reference)
            .prop('disabled', r.state !== 'failed');
          $tr.append($('<td></td>').append($pick));
        }
        $tr.append(
          $('<td></td>').append($('<span class="psa-ref"></span>').text(r.reference), $('<div class="small text-muted"></div>').text(r.kind)),
          $('<td></td>').append($('<div></div>').text(r.customer),
            $('<a class="small psa-sub-link"></a>').attr('href', subscriptionLink(r)).text(r.subscription)),
          $('<td></td>').text(r.product), $('<td></td>').text(r.period_start + ' to ' + r.period_end),
          $('<td class="text-right"></td>').text(money(r.amount, r.currency)),
          $('<td class="psa-code"></td>').text(r.code || ''), $('<td class="psa-reason"></td>').text(r.message || ''),
          $('<td></td>').append($('<span class="label psa-row-state"></span>').text(r.state)
            .addClass(r.state === 'pushed' ? 'label-success' : r.state === 'failed' ? 'label-danger' : 'label-info')));
        $body.append($tr);
      });
      $('#failed-all').prop('checked', false);
      updateRetry();
      psaPager('#failed-pager', state.page, resp.body.total, ROWS_PAGE, function (p) { state.page = p; loadRun(); });
    });
  }

  function picked() { return $('#failed-table .failed-pick:checked').map(function () { return Number(this.value); }).get(); }
  function updateRetry() { $('#retry-selected').prop('disabled', !picked().length); }

  function retry(ids) {
    $('#retry-selected, #retry-all').prop('disabled', true);
    psaFetch(API + '/retry-failed', {method: 'POST', json: ids ? {ids: ids} : {}}).then(function (resp) {
      $('#retry-all').prop('disabled', false);
      if (!resp.ok) { updateRetry(); return failed(resp); }
      var n = resp.body.retried;
      if (!n) { message('info', 'No failed row to retry.'); return reload(); }
      message('success', n + ' row(s) returned to pending; the sync is starting.');
      reload();
      if (window.psaSync) { window.psaSync.start(); }
    });
  }

  function reload() { return runId ? loadRun() : loadRuns(); }

  $('#failed-table').on('change', '.failed-pick', updateRetry);
  $('#failed-all').on('change', function () { $('#failed-table .failed-pick:enabled').prop('checked', this.checked); updateRetry(); });
  $('#retry-selected').on('click', function () { var ids = picked(); if (ids.length) { retry(ids); } });
  $('#retry-all').on('click', function () { retry(null); });
  document.addEventListener('psa:sync-finished', reload);
  document.addEventListener('psa:sync-changed', reload);
  reload();
})(jQuery);
