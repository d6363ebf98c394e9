/* Billing Sync Preview: Preview, Sync now, groups per customer -> agreement with lines, Push selected / all, Discard.
   Approve all / Push selected first confirm with the figures of what is chosen (transactions, agreements, net,
   catalog items to create), then a dialog follows the push to its end; the action bar stays at the bottom of the
   window, and shows the push's progress when the dialog is hidden. */
(function ($) {
  var root = document.getElementById('sync-preview');
  if (!root) { return; }
  var API = root.getAttribute('data-api');
  var canWrite = root.getAttribute('data-can-write') === 'true';
  var currency = root.getAttribute('data-currency') || psaCurrency;
  var PAGE = 20, LINES = 20;
  var state = {previewId: Number(root.getAttribute('data-preview-id')) || null, data: null, page: 1,
               unchecked: {}, collapsed: {}, polling: null, seen: {}, following: null};

  function money(value) { return psaMoney(value, currency); }
  function when(iso) { return psaWhen(iso); }
  function alertBox(kind, text) {
    $('#sync-alert').removeClass('hidden alert-success alert-danger alert-info alert-warning').addClass('alert-' + kind).text(text);
  }
  function failed(resp) {
    var body = resp.body || {};
    var details = body.errors ? ' ' + Object.keys(body.errors).map(function (k) { return k + ': ' + [].concat(body.errors[k]).join(', '); }).join('; ') : '';
    alertBox('danger', (body.message || ('Request failed (' + resp.status + ').')) + details);
  }
  function busy(on) { $('#btn-preview, #btn-sync-now, #decision-actions button').prop('disabled', on); if (!on) { updateSelection(); } }
  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : (many || one + 's')); }

  /* ---- loading ---- */
  function url() {
    var q = '?page=' + state.page + '&page_size=' + PAGE + '&lines=' + LINES;
    return state.previewId ? API + '/previews/' + state.previewId + q : API + '/preview' + q;
  }
  function load() {
    $('#preview-when').text('Loading…');
    return psaFetch(url()).then(function (resp) {
      if (!resp.ok) { $('#preview-when').text(''); return failed(resp); }
      render(resp.body);
    });
  }
  function preview() {
    $('#sync-alert').addClass('hidden');
    state.page = 1; state.unchecked = {};
    busy(true);
    $('#preview-when').text('Preparing the preview (reading ConnectWise’s catalog)…');
    var request = canWrite ? psaFetch(API + '/previews', {method: 'POST'}) : psaFetch(API + '/preview?page=1&page_size=' + PAGE + '&lines=' + LINES);
    return request.then(function (resp) {
      busy(false);
      if (!resp.ok) { $('#preview-when').text(''); return failed(resp); }
      state.previewId = resp.body.id || null;
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, '', state.previewId ? '?preview=' + state.previewId : window.location.pathname);
      }
      render(resp.body);
      if (!resp.body.totals.transactions) { alertBox('info', 'Nothing to push: every eligible transaction is already in ConnectWise.'); }
    });
  }
  function syncNow() {
    busy(true);
    psaFetch(API + '/run', {method: 'POST'}).then(function (resp) {
      busy(false);
      if (!resp.ok) { return failed(resp); }
      if (resp.body.job_id) {
        alertBox('info', 'Push started (job ' + resp.body.job_id + '). Every eligible transaction is being pushed.');
        return watchRun(null);
      }
      if (resp.body.awaiting_approval) {
        state.previewId = resp.body.awaiting_approval.id;
        alertBox('warning', 'Approval is required: a preview was prepared and waits for your approval below.');
        return load();
      }
      alertBox('info', 'Nothing to push.');
    });
  }

  /* ---- rendering ---- */
  function render(d) {
    state.data = d;
    $('#preview-empty').addClass('hidden');
    $('#preview-body').removeClass('hidden');
    $('#preview-when').text(d.id ? 'Preview #' + d.id + ' prepared ' + when(d.prepared_at) + ' by ' + (d.source === 'schedule' ? 'the schedule' : d.prepared_by)
                                 : 'Live preview, ' + when(d.generated_at) + ' (not saved)');
    renderStatus(d);
    $('#approval-label').text(d.approval_required ? 'required' : 'not required')
      .toggleClass('label-warning', d.approval_required).toggleClass('label-default', !d.approval_required);
    renderTotals(d.totals, d.lookups);
    renderCatalog(d.catalog);
    renderLookups(d.lookups);
    renderGroups(d.groups);
    var deciding = canWrite && d.status === 'awaiting_approval';
    $('#decision-actions').toggleClass('hidden', !deciding);
    sticky();
    $('#check-page').toggleClass('hidden', !deciding);
    var approve = d.approval_required || d.source === 'schedule';
    $('#btn-push-selected span').text(approve ? 'Approve selected' : 'Push selected');
    $('#btn-push-all span').text(approve ? 'Approve all' : 'Push all');
    updateSelection();
  }
  function renderStatus(d) {
    var $notice = $('#awaiting-notice').addClass('hidden'), $out = $('#preview-outcome').addClass('hidden');
    if (d.status === 'awaiting_approval') {
      $notice.removeClass('hidden').empty().append(
        $('<strong></strong>').text('This preview awaits approval. '),
        document.createTextNode((d.source === 'schedule' ? 'The schedule prepared it' : d.prepared_by + ' prepared it') + ' on ' + when(d.prepared_at) +
          '; nothing is pushed until it is approved' + (canWrite ? ' (tick the groups to push, or approve all).' : ' by a Partner Admin.')));
    } else if (d.status === 'approved') {
      $out.removeClass('hidden').text('Approved by ' + d.approved_by + ' on ' + when(d.approved_at) +
        (d.selection ? ' (' + d.selection.agreement_ids.length + ' agreement(s) chosen)' : ' (all)') +
        (d.run_id ? '; pushed by run #' + d.run_id + '.' : '; the push is running…') + (d.note ? ' ' + d.note : ''));
    } else if (d.status === 'discarded') {
      $out.removeClass('hidden').text('Discarded by ' + d.discarded_by + ' on ' + when(d.discarded_at) + '; nothing of it was pushed.');
    } else if (d.status === 'live' && d.awaiting_approval) {
      var a = d.awaiting_approval;
      $notice.removeClass('hidden').empty().append(
        $('<strong></strong>').text('Preview #' + a.id + ' awaits approval '),
        document.createTextNode('(' + a.transactions + ' transaction(s), net ' + money(a.net) + '). '),
        $('<a class="alert-link"></a>').attr('href', a.url).text('Open it'));
    } else if (d.status === 'expired') {
      $out.removeClass('hidden').text('Expired: ' + (d.note || 'a newer preview replaced it.') + ' Press Preview for a new one.');
    }
  }
  function renderTotals(t, lookups) {
    $('#tot-additions').text(t.additions);
    $('#tot-charges').text(money(t.charges));
    $('#tot-adjustments').text(t.adjustments);
    $('#tot-credits').text(money(t.credits));
    $('#tot-net').text(money(t.net));
    $('#tot-scope').text(t.transactions + ' transaction(s), ' + t.customers + ' customer(s)');
    $('#tot-lookups').text(lookups.count);
    var issues = [];
    if (t.blocked) { issues.push(t.blocked_summary || (t.blocked + ' blocked')); }
    if (t.errors) { issues.push(t.errors + ' that ConnectWise cannot take'); }
    $('#tot-issues').text(issues.join(', ') || 'no other issue');
  }
  function renderCatalog(c) {
    var $body = $('#catalog-body').empty();
    $('#catalog-summary').text(c.error ? '' : (c.create.length + ' item(s) and ' + c.new_lists.length + ' classification value(s) to create' +
      (c.psa_calls ? ' — ' + c.psa_calls + ' ConnectWise read(s) to find out' : '')));
    if (c.error) { $body.append($('<div class="alert alert-danger"></div>').text(c.error)); }
    if (!c.create.length && !c.new_lists.length && !c.refused.length && !c.differs.length && !c.error) {
      $body.append($('<span class="text-muted" id="catalog-nothing"></span>').text('Every product already has its catalog item; nothing will be created.'));
      return;
    }
    if (c.create.length) {
      var $t = $('<table class="table table-condensed" id="catalog-create"><thead><tr><th>Catalog item to create</th><th>Product</th><th>Category</th><th>Subcategory</th><th>Type</th><th>Class</th></tr></thead><tbody></tbody></table>');
      c.create.forEach(function (e) {
        var k = e.classification || {};
        $t.find('tbody').append($('<tr></tr>').append($('<td></td>').append($('<code></code>').text(e.identifier)), $('<td></td>').text(e.title || ''),
          $('<td></td>').text(k.category || ''), $('<td></td>').text(k.subcategory || ''), $('<td></td>').text(k.type || ''), $('<td></td>').text(k.product_class || '')));
      });
      $body.append($t);
    }
    if (c.new_lists.length) {
      var $l = $('<p id="catalog-lists"><strong>Classification values to create:</strong> </p>');
      c.new_lists.forEach(function (v) { $l.append($('<span class="label label-info psa-sync-chip"></span>').text(v)); });
      $body.append($l);
    }
    c.refused.forEach(function (e) {
      $body.append($('<div class="text-danger"></div>').text('Refused: ' + e.identifier + ' — ' + e.code + ': ' + e.message));
    });
    c.differs.forEach(function (e) {
      $body.append($('<div class="text-warning small"></div>').text('Existing item ' + e.identifier + ' is classified differently (kept as it is): ' + e.differs.join('; ')));
    });
  }
  function renderLookups(l) {
    $('#lookups-panel').toggleClass('hidden', !l.count);
    var $tb = $('#lookups-table tbody').empty();
    l.result.forEach(function (r) {
      $tb.append($('<tr></tr>').append($('<td></td>').text(r.reference), $('<td></td>').text(r.kind), $('<td></td>').text('#' + r.agreement_remote_id)));
    });
  }
  function renderGroups(g) {
    var $tb = $('#groups-table tbody').empty();
    var deciding = canWrite && state.data.status === 'awaiting_approval';
    $('#groups-total').text(g.total + ' group(s)');
    g.result.forEach(function (grp) {
      var id = grp.agreement_id;
      state.seen[id] = grp;  // its figures, for the confirmation of a selection
      var $check = deciding ? $('<input type="checkbox" class="group-check">').attr('data-agreement', id)
        .attr('aria-label', 'Push ' + grp.customer_name + ' / ' + grp.agreement_name).prop('checked', !state.unchecked[id]) : '';
      var $toggle = $('<button type="button" class="btn btn-link btn-xs group-toggle"></button>').text(state.collapsed[id] ? 'Show lines' : 'Hide lines');
      var $row = $('<tr class="psa-sync-group"></tr>').attr('data-agreement', id).attr('data-customer', grp.customer_id).append(
        $('<td class="psa-sync-check"></td>').append($check),
        $('<td></td>').append($('<strong></strong>').text(grp.customer_name), grp.company_name ? $('<div class="text-muted small"></div>').text('ConnectWise: ' + grp.company_name) : ''),
        $('<td></td>').append(document.createTextNode(grp.agreement_name + ' '), $('<span class="text-muted small"></span>').text('#' + grp.agreement_remote_id)),
        $('<td class="text-right"></td>').text(grp.additions), $('<td class="text-right"></td>').text(grp.adjustments),
        $('<td class="text-right"></td>').text(money(grp.charges)), $('<td class="text-right"></td>').text(money(grp.credits)),
        $('<td class="text-right"></td>').append($('<strong></strong>').text(money(grp.net))), $('<td></td>').append($toggle));
      if (!grp.selected) { $row.addClass('psa-sync-unselected'); }
      $toggle.on('click', function () { state.collapsed[id] = !state.collapsed[id]; renderGroups(state.data.groups); });
      $tb.append($row);
      if (!state.collapsed[id]) { $tb.append(linesRow(grp)); }
    });
    pager(g);
    $('#check-page').prop('checked', g.result.every(function (grp) { return !state.unchecked[grp.agreement_id]; }));
  }
  function linesRow(grp) {
    var $t = $('<table class="table table-condensed psa-sync-lines"><thead><tr><th>Reference</th><th>Record</th><th>Product</th><th>Period</th>' +
      '<th class="text-right">Quantity</th><th class="text-right">Unit price</th><th class="text-right">Amount</th><th></th></tr></thead><tbody></tbody></table>');
    grp.lines.forEach(function (l) {
      var $product = $('<td></td>').append(document.createTextNode(l.product + ' '));
      if (l.catalog.status === 'create') { $product.append($('<span class="label label-info"></span>').text('new item ' + l.catalog.identifier)); }
      var status = {ok: '', blocked: 'label-warning', error: 'label-danger'}[l.status];
      $t.find('tbody').append($('<tr></tr>').attr('data-transaction', l.transaction_id).append(
        $('<td></td>').append($('<code></code>').text(l.reference)), $('<td></td>').text(l.kind === 'addition' ? 'Addition' : 'Adjustment'),
        $product, $('<td></td>').text(l.period_start + ' to ' + l.period_end),
        $('<td class="text-right"></td>').text(l.quantity === null ? '' : Number(l.quantity)),
        $('<td class="text-right"></td>').text(l.unit_price === null ? '' : money(l.unit_price)),
        $('<td class="text-right"></td>').text(l.amount === null ? '' : money(l.amount)),
        $('<td></td>').append(status ? $('<span class="label"></span>').addClass(status).attr('title', l.check ? l.check.code + ': ' + l.error + ' Fix: ' + l.check.fix : l.error)
          .text(l.check ? l.status + ': ' + l.check.cause : l.status) : '')));
    });
    var more = grp.line_count - grp.lines.length;
    var $cell = $('<td colspan="9" class="psa-sync-lines-cell"></td>').append($t);
    if (more > 0) { $cell.append($('<p class="text-muted small"></p>').text('Showing ' + grp.lines.length + ' of ' + grp.line_count + ' lines (' + more + ' more; the totals count them all).')); }
    return $('<tr class="psa-sync-lines-row"></tr>').append($cell);
  }
  function pager(g) {
    var pages = Math.max(1, Math.ceil(g.total / PAGE));
    var $el = $('#groups-pager').empty();
    if (pages <= 1) { return; }
    var prev = $('<button type="button" class="btn btn-default btn-xs">&lsaquo; Prev</button>').prop('disabled', state.page <= 1);
    var next = $('<button type="button" class="btn btn-default btn-xs">Next &rsaquo;</button>').prop('disabled', state.page >= pages);
    prev.on('click', function () { state.page -= 1; load(); });
    next.on('click', function () { state.page += 1; load(); });
    $el.append(prev, $('<span class="recon-page"></span>').text(' Page ' + state.page + ' of ' + pages + ' '), next);
  }

  /* ---- choosing and deciding ---- */
  function chosen() {
    var all = (state.data && state.data.groups.agreement_ids) || [];
    return all.filter(function (id) { return !state.unchecked[id]; });
  }
  /* The figures of the chosen groups: the preview's totals less the groups unticked (a group can only be unticked
     where it was shown, so its figures are known). */
  function figures(agreementIds) {
    var t = state.data.totals, f = {transactions: t.transactions, additions: t.additions, adjustments: t.adjustments,
      held: (t.blocked || 0) + (t.errors || 0), net: Number(t.net), agreements: state.data.groups.agreement_ids.length,
      customers: t.customers, subset: false};
    if (!agreementIds) { return f; }
    f.subset = true;
    f.agreements = agreementIds.length;
    f.customers = null;
    state.data.groups.agreement_ids.forEach(function (id) {
      var g = state.seen[id];
      if (!state.unchecked[id] || !g) { return; }
      f.transactions -= g.transactions; f.additions -= g.additions; f.adjustments -= g.adjustments;
      f.held -= (g.blocked || 0) + (g.errors || 0); f.net -= Number(g.net);
    });
    return f;
  }
  function updateSelection() {
    if (!state.data) { return; }
    var all = state.data.groups.agreement_ids.length, n = chosen().length;
    $('#selection-count').text(n + ' of ' + all + ' group(s) selected');
    var f = figures(n === all ? null : chosen());
    $('#selection-figures').text(n ? '· ' + plural(f.transactions, 'transaction') + ', net ' + money(f.net) : '');
    $('#btn-push-selected').prop('disabled', n === 0 || n === all);
  }

  /* ---- confirm, then follow the push ---- */
  function approving() { return !!state.data && (state.data.approval_required || state.data.source === 'schedule'); }
  function confirmPush(agreementIds) {
    var f = figures(agreementIds), c = state.data.catalog, approve = approving();
    var verb = approve ? 'Approve and push' : 'Push';
    $('#approve-title').text(verb + (agreementIds ? ' the selected groups' : ' everything') + ' to ConnectWise?');
    $('#approve-lead').text((agreementIds ? 'These ' + plural(f.agreements, 'agreement') + ' of the preview' : 'The whole preview') +
      ' will be sent to ConnectWise now:');
    $('#approve-transactions').text(plural(f.transactions - f.held, 'transaction') + ' (' + plural(f.additions, 'addition') + ', ' +
      plural(f.adjustments, 'adjustment') + ')');
    $('#approve-agreements').text(f.customers === null ? plural(f.agreements, 'agreement') :
      plural(f.agreements, 'agreement') + ' of ' + plural(f.customers, 'customer'));
    $('#approve-net').text(money(f.net));
    var items = c.error ? 'unknown: ' + c.error : (!c.create.length && !c.new_lists.length) ? 'none: every product has its catalog item' :
      plural(c.create.length, 'item') + (c.new_lists.length ? ' and ' + plural(c.new_lists.length, 'classification value') : '');
    $('#approve-catalog').text(agreementIds && c.create.length ? 'up to ' + items + ' (those the selected lines need)' : items);
    $('#approve-held').toggleClass('hidden', !f.held).text(f.held ? plural(f.held, 'transaction') +
      ' of the selection wait for a product ConnectWise refused, or cannot be taken by ConnectWise: they are not sent.' : '');
    $('#approve-ok').text(verb + ' ' + plural(f.transactions - f.held, 'transaction')).prop('disabled', false)
      .data('agreements', agreementIds);
    $('#approve-confirm, #approve-ok, #approve-cancel').removeClass('hidden');
    $('#approve-run, #approve-hide, #approve-run-link, #approve-close, #approve-error').addClass('hidden');
    $('#approve-modal').modal('show');
  }
  function decide(agreementIds) {
    $('#approve-ok').prop('disabled', true);
    busy(true);
    var body = agreementIds ? {agreement_ids: agreementIds} : {};
    psaFetch(API + '/previews/' + state.previewId + '/approve', {method: 'POST', json: body}).then(function (resp) {
      busy(false);
      if (!resp.ok) {
        $('#approve-ok').prop('disabled', false);
        $('#approve-error').removeClass('hidden').text((resp.body && resp.body.message) || ('The push could not be started (' + resp.status + ').'));
        return failed(resp);
      }
      var text = 'Pushing ' + plural(resp.body.transactions, 'transaction') + ' to ConnectWise…';
      alertBox('info', text + ' (job ' + resp.body.job_id + ')');
      $('#approve-title').text('Pushing to ConnectWise');
      $('#approve-confirm, #approve-ok, #approve-cancel').addClass('hidden');
      $('#approve-run, #approve-hide').removeClass('hidden');
      $('#approve-result').addClass('hidden');
      showProgress(null, true, text);
      load().then(function () { watchRun(state.previewId); });
    });
  }
  /* Progress in the dialog and in the sticky bar: p is the running run's progress (or null), queued whether the
     push waits for a worker. */
  function showProgress(p, queued, lead) {
    var bar = document.getElementById('approve-progress-bar'), text;
    if (p && p.total !== null && p.total !== undefined) {
      var pct = p.total ? Math.min(100, Math.round(100 * p.done / p.total)) : 100;
      bar.style.width = pct + '%'; bar.setAttribute('aria-valuenow', String(pct)); bar.textContent = p.done + ' / ' + p.total;
      text = p.done + ' of ' + plural(p.total, 'transaction') + ' done, ' + (p.failed ? p.failed + ' failed so far' : 'no failures so far') +
        ' (run #' + p.run_id + ').';
    } else {
      bar.style.width = '0%'; bar.textContent = '…';
      text = lead || (p ? 'Reading what to push and checking the ConnectWise catalog…' : queued ? 'Waiting for a worker to start the push…' : 'Starting the push…');
    }
    $('#approve-progress').removeClass('hidden');
    $('#approve-progress-text').text(text);
    follow('Pushing: ' + text);
  }
  function follow(text) {
    $('#push-follow').removeClass('hidden');
    $('#push-follow-text').text(text);
    sticky();
  }
  function sticky() {
    $('#sync-sticky').toggleClass('hidden', $('#decision-actions').hasClass('hidden') && $('#push-follow').hasClass('hidden'));
  }
  function discard() {
    busy(true);
    psaFetch(API + '/previews/' + state.previewId + '/discard', {method: 'POST'}).then(function (resp) {
      busy(false);
      if (!resp.ok) { return failed(resp); }
      alertBox('info', 'Preview discarded: nothing of it was pushed.');
      load();
    });
  }
  function watchRun(previewId) {
    clearInterval(state.polling);
    var started = Date.now(), ticking = false;
    state.polling = setInterval(function () {
      if (ticking) { return; }
      ticking = true;
      var live = psaFetch(API + '/progress').then(function (r) {
        if (r.ok && previewId && (r.body.progress || r.body.queued)) { showProgress(r.body.progress, r.body.queued); }
      });
      var done = previewId ? psaFetch(API + '/previews/' + previewId + '?page_size=1&lines=0').then(function (r) {
        return r.ok && (r.body.run_id || r.body.status !== 'approved') ? {runId: r.body.run_id || -1, preview: r.body} : null;
      }) : psaFetch(API + '/').then(function (r) {
        return r.ok && !r.body.running && r.body.runs.length ? {runId: r.body.runs[0].id} : null;
      });
      Promise.all([live, done]).then(function (out) {
        ticking = false;
        var end = out[1];
        if (!end && Date.now() - started < 600000) { return; }
        clearInterval(state.polling);
        if (end && end.runId > 0) { showRun(end.runId); }
        else if (end && end.preview) { showOutcome('warning', end.preview.note || 'The push did not start; the preview awaits approval again.', null); }
        if (state.previewId) { load(); }
      }, function () { ticking = false; });
    }, 1000);
  }
  function showRun(runId) {
    psaFetch(API + '/runs/' + runId).then(function (resp) {
      if (!resp.ok) { return; }
      var r = resp.body, c = r.counts || {};
      var parts = Object.keys(c).map(function (k) { return c[k] + ' ' + k; });
      var text = 'Run #' + r.id + ' ' + r.status + ': ' + (parts.join(', ') || 'nothing to push') + (r.error ? ' — ' + r.error : '') + '.';
      var kind = r.status === 'succeeded' ? 'success' : 'warning';
      alertBox(kind, text);
      showOutcome(kind, text, r.id);
    });
  }
  /* The end of a followed push: in the dialog (if open), in the sticky bar either way. */
  function showOutcome(kind, text, runId) {
    var bar = document.getElementById('approve-progress-bar');
    if (runId) { bar.style.width = '100%'; bar.textContent = 'done'; }
    $('#approve-progress').toggleClass('hidden', !runId);
    $('#approve-progress-text').text('');
    $('#approve-title').text(kind === 'success' ? 'Pushed to ConnectWise' : 'The push has ended');
    $('#approve-result').removeClass('hidden alert-success alert-warning').addClass('alert-' + kind).text(text);
    $('#approve-hide').addClass('hidden');
    $('#approve-close').removeClass('hidden');
    $('#approve-run-link').toggleClass('hidden', !runId).attr('href', runId ? '/psa/sync/runs/' + runId : '/psa/sync/');
    follow(text);
    if (runId) { $('#push-follow-open').text('Open the run').data('href', '/psa/sync/runs/' + runId); }
  }

  $('#btn-preview').on('click', preview);
  $('#btn-sync-now').on('click', syncNow);
  $('#btn-push-all').on('click', function () { confirmPush(null); });
  $('#btn-push-selected').on('click', function () { confirmPush(chosen()); });
  $('#approve-ok').on('click', function () { decide($(this).data('agreements') || null); });
  $('#push-follow-open').on('click', function () {
    var href = $(this).data('href');
    if (href) { window.location.href = href; } else { $('#approve-modal').modal('show'); }
  });
  $('#btn-discard').on('click', discard);
  $('#groups-table').on('change', '.group-check', function () {
    var id = Number($(this).attr('data-agreement'));
    if (this.checked) { delete state.unchecked[id]; } else { state.unchecked[id] = true; }
    $('#check-page').prop('checked', $('.group-check').toArray().every(function (el) { return el.checked; }));
    updateSelection();
  });
  $('#check-page').on('change', function () {
    var on = this.checked;
    $('.group-check').each(function () {
      var id = Number($(this).attr('data-agreement'));
      this.checked = on;
      if (on) { delete state.unchecked[id]; } else { state.unchecked[id] = true; }
    });
    updateSelection();
  });
  if (state.previewId) { load(); }
})(jQuery);
