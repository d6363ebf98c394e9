/* Reconciliation Center, Revenue assurance tab: the drift figure, the findings by kind, filters and decisions. */
(function ($) {
  var pane = document.getElementById('assurance');
  if (!pane) { return; }
  var API = pane.getAttribute('data-api');
  var canWrite = pane.getAttribute('data-can-write') === 'true';
  var PAGE = 25;
  var state = {page: 1};
  var KINDS = {missing: 'Missing', edited: 'Edited', moved_or_cancelled: 'Moved or cancelled',
               double_billing: 'Possible double billing', orphan: 'Unknown to MSP Hub',
               under_invoiced: 'Under-invoiced period', over_invoiced: 'Over-invoiced period'};
  var ACTIONS = {recreate: 'Re-create', accept: 'Accept ConnectWise\u2019s value', ignore: 'Ignore'};

  function money(value) { return psaMoney(value, psaCurrency); }
  function values(obj) {
    if (!obj) { return '\u2014'; }
    return Object.keys(obj).map(function (k) { return k.replace(/_/g, ' ') + ': ' + (obj[k] === null ? '\u2014' : obj[k]); }).join('; ');
  }
  function notice(kind, text) {
    $('#recon-alert').removeClass('hidden alert-success alert-danger alert-info').addClass('alert-' + kind).text(text);
  }
  function errorOf(resp) { return (resp.body && resp.body.message) || ('Request failed (' + resp.status + ').'); }

  function showDrift(drift) {
    $('#fig-drift').text(drift.records + ' record' + (drift.records === 1 ? '' : 's') + ', ' + money(drift.amount));
    $('#fig-drift-count').text(drift.records ? 'found by the last read-back' : 'nothing drifted');
    $('#badge-assurance').text(drift.records || '');
    var $by = $('#assurance-by-code').empty();
    Object.keys(KINDS).forEach(function (code) {
      var c = drift.by_code[code];
      if (c && c.records) { $by.append($('<li></li>').text(KINDS[code] + ': ' + c.records + ' (' + money(c.amount) + ')')); }
    });
  }

  function actionCell(f) {
    var $td = $('<td class="text-nowrap"></td>');
    if (!canWrite) { return $td; }
    f.actions.forEach(function (action) {
      var $b = $('<button type="button" class="btn btn-default btn-xs assurance-action"></button>')
        .text(ACTIONS[action]).attr('data-action', action).attr('data-finding', f.id);
      $b.on('click', function () { action === 'ignore' ? askReason($td, f) : resolve(f, action, null); });
      $td.append($b, ' ');
    });
    return $td;
  }
  function askReason($td, f) {
    var $input = $('<input type="text" class="form-control input-sm assurance-reason" placeholder="Why ignore it?">')
      .attr('aria-label', 'Reason to ignore finding ' + f.id);
    var $ok = $('<button type="button" class="btn btn-warning btn-xs assurance-ignore-confirm">Ignore</button>');
    $ok.on('click', function () { resolve(f, 'ignore', $input.val()); });
    $td.empty().append($input, $ok);
    $input.trigger('focus');
  }
  function resolve(f, action, reason) {
    psaFetch(API + '/findings/' + f.id + '/resolve', {method: 'POST', json: {action: action, reason: reason}}).then(function (resp) {
      if (!resp.ok) { return notice('danger', errorOf(resp)); }
      var text = action === 'recreate' ? 'Re-create asked: the next push creates the record again (once), then the read-back confirms it.'
        : action === 'accept' ? 'ConnectWise\u2019s value accepted; both values are kept.' : 'Finding ignored.';
      notice('success', text);
      load();
    });
  }

  function row(f) {
    var $tr = $('<tr class="assurance-row"></tr>').attr('data-finding', f.id).attr('data-code', f.code);
    $tr.append($('<td></td>').text(KINDS[f.code] || f.code).attr('title', f.detail));
    var what = f.code.indexOf('invoiced') > 0 ? 'invoice ' + (f.held && f.held.invoice)
      : (f.reference || 'no reference') + (f.record_id ? ' \u00b7 #' + f.record_id : '');
    $tr.append($('<td></td>').text(what));
    $tr.append($('<td></td>').text(f.agreement_remote_id || '\u2014'));
    $tr.append($('<td class="small"></td>').text(values(f.sent)));
    $tr.append($('<td class="small"></td>').text(f.held ? values(f.held) : 'nothing (deleted)'));
    $tr.append($('<td class="text-right assurance-amount"></td>').text(money(f.amount)));
    $tr.append(f.status === 'open' ? actionCell(f) : $('<td class="small text-muted"></td>').text(f.status + (f.reason ? ': ' + f.reason : '')));
    return $tr;
  }

  function load() {
    var params = ['page=' + state.page, 'page_size=' + PAGE, 'status=' + $('#assurance-status').val()];
    if ($('#assurance-code').val()) { params.push('code=' + $('#assurance-code').val()); }
    return psaFetch(API + '/findings?' + params.join('&')).then(function (resp) {
      if (!resp.ok) { return; }
      var body = resp.body, $body = $('#assurance-table tbody').empty();
      showDrift(body.drift);
      var run = body.latest_run;
      $('#assurance-last-run').text(run ? 'Last read-back: ' + psaWhen(run.finished_at || run.started_at) + ' (' + run.status + ', ' + run.agreements + ' agreements).' : 'Not read back yet.');
      body.findings.forEach(function (f) { $body.append(row(f)); });
      if (!body.findings.length) { $body.append('<tr><td colspan="7" class="text-muted">No findings.</td></tr>'); }
      psaPager('#assurance-pager', state.page, body.total, PAGE, function (p) { state.page = p; load(); });
    });
  }

  $('#assurance-code, #assurance-status').on('change', function () { state.page = 1; load(); });
  $('#assurance-run').on('click', function () {
    psaFetch(API + '/run', {method: 'POST'}).then(function (resp) {
      notice(resp.ok ? 'info' : 'danger', resp.ok ? 'Read-back started; the findings refresh when it ends.' : errorOf(resp));
      if (resp.ok) { setTimeout(load, 3000); }
    });
  });
  load();
})(jQuery);
