/* Reconciliation Center: indicators, chart, Customers tab (drag and drop / keyboard), Products / Subscriptions. */
(function ($) {
  var root = document.getElementById('recon');
  if (!root) { return; }
  var API = root.getAttribute('data-api');
  var canWrite = root.getAttribute('data-can-write') === 'true';
  var PAGE = 25;
  var state = {customerPage: 1, companyPage: 1, mappedPage: 1, subsPage: 1, period: 'all',
               selectedCustomer: null, selectedCompany: null, currency: psaCurrency, polling: null};
  var METHODS = {manual: 'Manual', exact: 'Exact name', suggestion: 'Suggestion'};

  function money(value) { return psaMoney(value, state.currency); }
  function when(iso) { return psaWhen(iso, {empty: 'never'}); }
  function qs(params) { return Object.keys(params).map(function (k) { return k + '=' + encodeURIComponent(params[k]); }).join('&'); }
  function alertBox(kind, text) {
    $('#recon-alert').removeClass('hidden alert-success alert-danger alert-info').addClass('alert-' + kind).text(text);
  }
  function errorOf(resp) {
    var body = resp.body || {};
    var details = body.errors ? ' ' + Object.keys(body.errors).map(function (k) { return [].concat(body.errors[k]).join(', '); }).join('; ') : '';
    return (body.message || ('Request failed (' + resp.status + ').')) + details;
  }
  function failed(resp) { alertBox('danger', errorOf(resp)); }

  /* Feedback where the user acted: a notice waits for its list to be drawn again, then takes the place of the
     row acted on (kept until the next action there), scrolled into view if it is not. */
  var notices = {};
  function noticeFor(list, kind, text, index) { notices[list] = {kind: kind, text: text, index: index || 0}; }
  function placeNotice(list, $container, rowSelector, wrap) {
    var n = notices[list];
    if (!n) { return; }
    delete notices[list];
    var $box = $('<div class="alert psa-notice recon-feedback" role="status" aria-live="polite"></div>').addClass('alert-' + n.kind).text(n.text);
    var $item = wrap($box).attr('data-notice', list);
    var $rows = $container.children(rowSelector);
    if (n.index < $rows.length) { $rows.eq(n.index).before($item); } else { $container.append($item); }
    var r = $box[0].getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) { $box[0].scrollIntoView({block: 'center'}); }
  }
  function indexIn(selector, attr, id) {
    var index = -1;
    $(selector).each(function (i) { if (Number($(this).attr(attr)) === id) { index = i; } });
    return Math.max(index, 0);
  }
  function debounce(fn) { var t; return function () { clearTimeout(t); t = setTimeout(fn, 250); }; }

  function pager(el, page, total, onPage) { psaPager(el, page, total, PAGE, onPage); }

  /* ---- indicators, directory, chart ---- */
  function loadSummary() {
    return psaFetch(API + '/summary?' + qs({period: state.period})).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var s = resp.body;
      state.currency = s.currency;
      $('#fig-unmapped-customers').text(s.unmapped_customers);
      $('#fig-customers-of').text('of ' + s.customers + ' customers');
      $('#fig-unmapped-subscriptions').text(s.unmapped_subscriptions);
      $('#fig-subscriptions-of').text('of ' + s.subscriptions + ' subscriptions');
      $('#fig-unsynchronized').text(money(s.unsynchronized_revenue));
      $('#fig-pending-push').text(money(s.pending_push));
      $('#fig-pending-push-count').text(s.pending_push_count + ' transaction(s)');
      $('#fig-failed').text(money(s.failed));
      $('#fig-failed-count').text(s.failed_count + ' transaction(s)');
      $('#fig-blocked').text(money(s.blocked));
      $('#fig-blocked-count').text(s.blocked_count + ' transaction(s)');
      $('#fig-blocked-causes').text((s.blocked_causes || []).map(function (c) {
        return c.count + ' ' + c.cause;
      }).join(', '));
      $('#badge-unmapped').text(s.unmapped_customers);
      $('#badge-mapped').text(s.mapped_customers);
      $('#badge-subs-unmapped').text(s.unmapped_subscriptions);
      $('#subscriptions-summary').text(s.mapped_subscriptions + ' of ' + s.subscriptions + ' subscriptions mapped');
      showDirectory(s.directory);
    });
  }

  function showDirectory(d) {
    var text = 'last refreshed ' + when(d.last_refreshed_at);
    if (d.progress && d.progress.companies !== undefined && d.status === 'done') {
      text += ' (' + d.progress.companies + ' companies, ' + d.progress.agreements + ' agreements read)';
    }
    if (d.status === 'never') { text = canWrite ? 'never refreshed — refresh it to load your ConnectWise companies' : 'not read from ConnectWise yet'; }
    $('#directory-status').text(text);
    var running = d.status === 'queued' || d.status === 'running';
    $('#directory-progress').toggleClass('hidden', !running);
    if (running) {
      var p = d.progress || {};
      $('#directory-progress .progress-bar').text(d.status === 'queued' ? 'Queued…' : p.phase === 'mapping' ?
        'Mapping exact names and subscriptions…' :
        'Reading ' + (p.phase || '') + '… ' + (p.companies || 0) + ' companies, ' + (p.agreements || 0) + ' agreements');
    }
    $('#refresh-directory').prop('disabled', running);
    $('#directory-error').toggleClass('hidden', d.status !== 'failed').text(d.status === 'failed' ? d.error || 'The refresh failed.' : '');
    if (running && !state.polling) {
      state.polling = setInterval(pollDirectory, 1500);
    } else if (!running && state.polling) {
      clearInterval(state.polling); state.polling = null; reloadAll();
    }
    root.setAttribute('data-directory', d.status || '');  // after the reload it starts: tests wait on both
  }
  function pollDirectory() {
    psaFetch(API + '/directory').then(function (resp) { if (resp.ok) { showDirectory(resp.body); } });
  }

  function loadChart() {
    return psaFetch(API + '/chart').then(function (resp) {
      if (!resp.ok) { return; }
      var months = resp.body.months, max = 0;
      months.forEach(function (m) { max = Math.max(max, Number(m.unsynchronized), Number(m.pushed)); });
      var $c = $('#chart').empty();
      months.forEach(function (m) {
        var u = max ? Math.round(80 * Number(m.unsynchronized) / max) : 0;
        var p = max ? Math.round(80 * Number(m.pushed) / max) : 0;
        var col = $('<div class="recon-bar-col"></div>').attr('title', m.month.slice(0, 7) + ': unsynchronized ' + money(m.unsynchronized) + ', pushed ' + money(m.pushed));
        col.append($('<div class="recon-bars"></div>').append(
          $('<div class="recon-bar recon-bar-pushed"></div>').css('height', p + 'px'),
          $('<div class="recon-bar recon-bar-unsync"></div>').css('height', Math.max(u, Number(m.unsynchronized) ? 1 : 0) + 'px')));
        col.append($('<div class="recon-bar-label"></div>').text(m.month.slice(5, 7) + '/' + m.month.slice(2, 4)));
        $c.append(col);
      });
    });
  }

  /* ---- Unmapped: customers and companies ---- */
  function selectable($li, kind, id, label) {
    $li.attr({tabindex: 0, role: 'option', 'aria-selected': 'false', 'data-id': id, 'data-kind': kind});
    $li.on('click', function (e) { if (!$(e.target).is('button')) { choose(kind, id, label, $li); } });
    $li.on('keydown', function (e) {
      if ((e.key === 'Enter' || e.key === ' ') && e.target === $li[0]) { e.preventDefault(); choose(kind, id, label, $li); }
    });
    if (canWrite) {
      $li.attr('draggable', 'true');
      $li.on('dragstart', function (e) {
        e.originalEvent.dataTransfer.setData('text/plain', kind + ':' + id);
        e.originalEvent.dataTransfer.effectAllowed = 'link';
      });
    }
  }
  function choose(kind, id, label, $li) {
    var key = kind === 'customer' ? 'selectedCustomer' : 'selectedCompany';
    var same = state[key] && state[key].id === id;
    $li.parent().children().removeClass('active').attr('aria-selected', 'false');
    state[key] = same ? null : {id: id, label: label};
    if (!same) { $li.addClass('active').attr('aria-selected', 'true'); }
    $('#associate').prop('disabled', !(state.selectedCustomer && state.selectedCompany));
  }

  function loadCustomers() {
    var params = {state: 'unmapped', q: $('#customer-search').val() || '', page: state.customerPage, page_size: PAGE, period: state.period};
    return psaFetch(API + '/customers?' + qs(params)).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $list = $('#customer-list').empty();
      $('#customers-total').text(resp.body.total + ' unmapped');
      if (!resp.body.result.length) { $list.append($('<li class="list-group-item text-muted"></li>').text('No unmapped customers.')); }
      resp.body.result.forEach(function (c) {
        var $li = $('<li class="list-group-item recon-customer"></li>');
        $li.append($('<span class="recon-name"></span>').text(c.name),
          $('<span class="text-muted small"></span>').text(' ' + c.external_id),
          $('<span class="pull-right recon-money"></span>').attr('title', 'Unsynchronized revenue').text(money(c.unsynchronized)),
          $('<div class="recon-suggestions small"></div>').attr('data-customer', c.id));
        selectable($li, 'customer', c.id, c.name);
        if (state.selectedCustomer && state.selectedCustomer.id === c.id) { $li.addClass('active').attr('aria-selected', 'true'); }
        $list.append($li);
      });
      pager('#customer-pager', state.customerPage, resp.body.total, function (p) { state.customerPage = p; loadCustomers(); });
      placeNotice('customers', $list, 'li', function ($box) { return $('<li class="list-group-item recon-notice-item"></li>').append($box); });
      return loadSuggestions(resp.body.result.map(function (c) { return c.id; }));
    });
  }

  function loadSuggestions(ids) {
    if (!ids.length) { return Promise.resolve(); }
    return psaFetch(API + '/suggestions?' + qs({customer_ids: ids.join(',')})).then(function (resp) {
      if (!resp.ok) { return; }
      Object.keys(resp.body.result).forEach(function (cid) {
        var $box = $('.recon-suggestions[data-customer="' + cid + '"]').empty();
        resp.body.result[cid].forEach(function (s) {
          var $s = $('<div class="recon-suggestion"></div>').append(
            $('<span class="label label-info"></span>').text('Suggested'), ' ',
            $('<span class="recon-suggested-name"></span>').text(s.company_name),
            $('<span class="text-muted"></span>').text(' — score ' + s.score + ', ' + s.reason_text + ' '));
          if (canWrite) {
            $s.append($('<button type="button" class="btn btn-link btn-xs recon-accept">Accept</button>')
              .attr('aria-label', 'Map to ' + s.company_name).on('click', function () {
                mapCustomer(Number(cid), s.company_id, 'suggestion', s.score);
              }));
          }
          $box.append($s);
        });
      });
    });
  }

  function loadCompanies() {
    var params = {q: $('#company-search').val() || '', page: state.companyPage, page_size: PAGE};
    return psaFetch(API + '/companies?' + qs(params)).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $list = $('#company-list').empty();
      $('#companies-total').text(resp.body.total + ' not mapped');
      if (!resp.body.result.length) {
        $list.append($('<li class="list-group-item text-muted"></li>').text('No unmapped ConnectWise companies in the local directory.' +
          (canWrite ? ' Refresh the directory if some are missing.' : '')));
      }
      resp.body.result.forEach(function (co) {
        var $li = $('<li class="list-group-item recon-company"></li>');
        $li.append($('<span class="recon-name"></span>').text(co.name),
          $('<span class="text-muted small"></span>').text(' ' + co.identifier + ' · #' + co.remote_id));
        selectable($li, 'company', co.id, co.name);
        if (canWrite) {
          $li.on('dragover', function (e) { e.preventDefault(); $li.addClass('recon-drop'); });
          $li.on('dragleave', function () { $li.removeClass('recon-drop'); });
          $li.on('drop', function (e) {
            e.preventDefault(); $li.removeClass('recon-drop');
            var data = (e.originalEvent.dataTransfer.getData('text/plain') || '').split(':');
            if (data[0] === 'customer') { mapCustomer(Number(data[1]), co.id, 'manual'); }
          });
        }
        $list.append($li);
      });
      pager('#company-pager', state.companyPage, resp.body.total, function (p) { state.companyPage = p; loadCompanies(); });
    });
  }

  function mapCustomer(customerId, companyId, method, score) {
    var body = {customer_id: customerId, company_id: companyId, method: method};
    if (score !== undefined) { body.score = score; }
    var index = indexIn('#customer-list li.recon-customer', 'data-id', customerId);
    var name = $('#customer-list li.recon-customer[data-id="' + customerId + '"] .recon-name').text();
    return psaFetch(API + '/mappings', {method: 'POST', json: body}).then(function (resp) {
      if (!resp.ok) { noticeFor('customers', 'danger', errorOf(resp), index); return reloadAll(); }
      noticeFor('customers', 'success', (name ? name + ' is mapped to ' : 'Mapped to ') + resp.body.company.name +
        ': it is now under Mapped and its subscriptions can be associated.', index);
      state.selectedCustomer = state.selectedCompany = null;
      $('#associate').prop('disabled', true);
      return reloadAll();
    });
  }

  /* ---- Mapped ---- */
  function loadMapped() {
    var params = {state: 'mapped', q: $('#mapped-search').val() || '', page: state.mappedPage, page_size: PAGE, period: state.period};
    return psaFetch(API + '/customers?' + qs(params)).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $body = $('#mapped-table tbody').empty();
      if (!resp.body.result.length) { $body.append($('<tr><td colspan="6" class="text-muted">No mapped customers.</td></tr>')); }
      resp.body.result.forEach(function (c) {
        var $tr = $('<tr class="recon-mapped-row"></tr>').attr('data-customer', c.id);
        var company = c.company ? c.company.name + (c.company.deleted ? ' (deleted in ConnectWise)' : '') : '';
        $tr.append($('<td></td>').text(c.name), $('<td></td>').text(company), $('<td></td>').text(METHODS[c.method] || c.method),
          $('<td></td>').text(c.mapped_by), $('<td></td>').text(when(c.mapped_at)));
        var $act = $('<td></td>');
        if (canWrite) {
          $act.append($('<button type="button" class="btn btn-default btn-xs recon-unmap">Disassociate</button>').on('click', function () {
            $('#unmap-customer').text(c.name); $('#unmap-company').text(company);
            $('#unmap-subs').text(c.subscriptions_mapped + ' of ' + c.subscriptions + ' subscriptions mapped now');
            $('#unmap-confirm').data('customer', c.id).data('name', c.name).data('company', company);
            $('#unmap-modal').modal('show');
          }));
        }
        $tr.append($act);
        $body.append($tr);
      });
      pager('#mapped-pager', state.mappedPage, resp.body.total, function (p) { state.mappedPage = p; loadMapped(); });
      placeNotice('mapped', $body, 'tr', function ($box) { return $('<tr class="recon-notice-row"></tr>').append($('<td colspan="6"></td>').append($box)); });
    });
  }

  /* ---- Products / Subscriptions ---- */
  var SYNC = {not_mapped: ['Not mapped', 'label-warning'], pending: ['Pending', 'label-info'],
              synced: ['Synced', 'label-success'], failed: ['Failed', 'label-danger'],
              moving: ['Moving', 'label-primary']};
  var subs = {open: {}, customer: null, rows: [], agreements: [], today: null, change: null, previewSeq: 0};

  function loadSubscriptions() {
    var params = {state: 'mapped', q: $('#subs-search').val() || '', page: state.subsPage, page_size: PAGE, period: state.period};
    return psaFetch(API + '/customers?' + qs(params)).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $body = $('#subscriptions-table tbody').empty();
      if (!resp.body.result.length) { $body.append($('<tr><td colspan="5" class="text-muted">No mapped customers yet: map customers on the Customers tab first.</td></tr>')); }
      resp.body.result.forEach(function (c) {
        var missing = c.subscriptions - c.subscriptions_mapped;
        var status = c.subscriptions_mapped + ' of ' + c.subscriptions + ' mapped';
        var $status = $('<td></td>').text(status);
        if (missing > 0) { $status.append(' ', $('<span class="label label-warning"></span>').text(missing + ' unmapped')); }
        var $btn = $('<button type="button" class="btn btn-default btn-xs recon-view-subs"></button>')
          .attr({'aria-expanded': 'false', 'data-customer': c.id}).text('View Subscriptions');
        var $tr = $('<tr class="recon-subs-customer"></tr>').attr('data-customer', c.id).append(
          $('<td></td>').text(c.name), $('<td></td>').text(c.company ? c.company.name : ''), $status,
          $('<td class="text-right"></td>').text(money(c.unsynchronized)), $('<td class="text-right"></td>').append($btn));
        $btn.on('click', function () { toggleSubscriptions(c.id); });
        $body.append($tr);
        if (subs.open[c.id]) { showSubscriptions(c.id); }
      });
      pager('#subscriptions-pager', state.subsPage, resp.body.total, function (p) { state.subsPage = p; loadSubscriptions(); });
    });
  }

  function toggleSubscriptions(customerId) {
    if (subs.open[customerId]) {
      delete subs.open[customerId];
      $('#subs-of-' + customerId).remove();
      $('.recon-view-subs[data-customer="' + customerId + '"]').attr('aria-expanded', 'false').text('View Subscriptions');
      return;
    }
    subs.open[customerId] = true;
    showSubscriptions(customerId);
  }

  function showSubscriptions(customerId) {
    $('.recon-view-subs[data-customer="' + customerId + '"]').attr('aria-expanded', 'true').text('Hide Subscriptions');
    return psaFetch(API + '/customers/' + customerId + '/subscriptions').then(function (resp) {
      $('#subs-of-' + customerId).remove();
      var $cell = $('<td colspan="5"></td>');
      var $detail = $('<tr class="recon-subs-detail"></tr>').attr('id', 'subs-of-' + customerId).append($cell);
      $('tr.recon-subs-customer[data-customer="' + customerId + '"]').after($detail);
      if (!resp.ok) { $cell.append($('<div class="text-danger"></div>').text((resp.body || {}).message || 'Could not load the subscriptions.')); return; }
      $cell.append(subscriptionTable(resp.body));
      placeNotice('subs-' + customerId, $cell, 'table', function ($box) { return $box; });
      showTarget();
    });
  }

  function subscriptionTable(data) {
    var $table = $('<table class="table table-condensed recon-subs-table"></table>').attr('data-customer', data.customer.id);
    $table.append($('<thead><tr><th>Subscription</th><th class="text-right">Quantity</th><th class="text-right">Value</th><th>Agreement</th><th>From Date</th><th>Sync status</th><th></th></tr></thead>'));
    var $body = $('<tbody></tbody>');
    if (!data.result.length) { $body.append($('<tr><td colspan="7" class="text-muted">This customer has no subscriptions.</td></tr>')); }
    data.result.forEach(function (r) {
      var m = r.mapping;
      var $tr = $('<tr class="recon-sub"></tr>').attr('data-subscription', r.id).toggleClass('recon-unmapped', !m);
      var $agreement = $('<td class="recon-sub-agreement"></td>');
      if (m) {
        $agreement.text(m.agreement.name).append($('<span class="text-muted small"></span>').text(m.method === 'auto' ? ' (auto)' : ''));
      } else {
        $agreement.append($('<span class="text-muted">No agreement yet</span>'),
          $('<div class="small text-warning recon-unmapped-reason"></div>').text(r.unmapped_reason || ''));
      }
      var sync = SYNC[r.sync_status] || [r.sync_status, 'label-default'];
      var $sync = $('<span class="label recon-sync"></span>').addClass(sync[1]).text(sync[0]);
      if (r.sync_reason) { $sync.attr('title', r.sync_reason); }
      var $act = $('<td class="text-right"></td>');
      if (canWrite) {
        $act.append(m ? $('<button type="button" class="btn btn-default btn-xs recon-change">Change</button>').on('click', function () { openChange(data, r); })
                      : $('<button type="button" class="btn btn-primary btn-xs recon-associate">Associate</button>').on('click', function () { openAssociate(data, [r.id]); }));
      }
      $tr.append($('<td></td>').append($('<span class="recon-sub-name"></span>').text(r.name), $('<div class="small text-muted"></div>').text(r.external_id + ' · ' + r.frequency.replace('_', '-'))),
        $('<td class="text-right"></td>').text(r.quantity), $('<td class="text-right"></td>').text(money(r.value)),
        $agreement, $('<td></td>').text(m ? m.from_date : ''), $('<td></td>').append($sync), $act);
      $body.append($tr);
    });
    return $table.append($body);
  }

  function laterDate(a, b) { return !a ? b : (!b ? a : (a > b ? a : b)); }
  function popupError(id, resp) {
    var body = (resp && resp.body) || {};
    var details = body.errors ? Object.keys(body.errors).filter(function (k) { return k !== 'from_date'; })
      .map(function (k) { return [].concat(body.errors[k]).join(', '); }).join('; ') : '';
    $(id).removeClass('hidden').text((body.message || ('Request failed (' + (resp ? resp.status : '?') + ').')) + (details ? ' ' + details : ''));
  }
  function agreementLabel(a) {
    return a.name + (a.type ? ' — ' + a.type : '') + ' — billing start ' + (a.billing_start_date || a.start_date || 'not set');
  }
  function loadAgreements(customerId) {
    return psaFetch(API + '/customers/' + customerId + '/agreements').then(function (resp) {
      if (!resp.ok) { return resp; }
      subs.today = resp.body.today;
      subs.agreements = resp.body.agreements;
      return resp;
    });
  }
  function fillAgreements($select, keepId, includeId) {
    $select.empty();
    subs.agreements.forEach(function (a) {
      if (!a.eligible && a.id !== includeId) { return; }
      $select.append($('<option></option>').val(a.id).text(agreementLabel(a) + (a.eligible ? '' : ' (' + a.reason + ')')));
    });
    if (keepId) { $select.val(String(keepId)); }
  }
  function agreementById(id) { return subs.agreements.filter(function (a) { return a.id === Number(id); })[0]; }

  /* Unmapped only: unmapped subscriptions across customers; several of one company associate at once. */
  var unmapped = {page: 1, rows: {}, picked: {}};
  function loadUnmapped() {
    var params = {q: $('#unmapped-subs-search').val() || '', page: unmapped.page, page_size: PAGE};
    return psaFetch(API + '/subscriptions/unmapped?' + qs(params)).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $body = $('#unmapped-subs-table tbody').empty();
      var cols = canWrite ? 6 : 5;
      unmapped.rows = {};
      if (!resp.body.result.length) {
        $body.append($('<tr></tr>').append($('<td class="text-muted"></td>').attr('colspan', cols).text(
          $('#unmapped-subs-search').val() ? 'No unmapped subscription matches.' : 'Every subscription is mapped.')));
      }
      resp.body.result.forEach(function (r) { unmapped.rows[r.id] = r; $body.append(unmappedRow(r)); });
      pager('#unmapped-subs-pager', unmapped.page, resp.body.total, function (p) { unmapped.page = p; loadUnmapped(); });
      placeNotice('unmapped-subs', $body, 'tr', function ($box) { return $('<tr class="recon-notice-row"></tr>').append($('<td></td>').attr('colspan', cols).append($box)); });
      updateUnmappedSelection();
    });
  }
  function unmappedRow(r) {
    var $tr = $('<tr class="recon-unmapped-sub"></tr>').attr('data-subscription', r.id);
    if (canWrite) {
      var $pick = $('<input type="checkbox" class="unmapped-pick">').val(r.id).attr('aria-label', 'Select ' + r.name)
        .prop({checked: !!unmapped.picked[r.id], disabled: !r.company});
      $tr.append($('<td></td>').append($pick));
    }
    $tr.append($('<td></td>').append($('<span class="recon-sub-name"></span>').text(r.name),
        $('<div class="small text-muted"></div>').text(r.external_id + ' · ' + r.frequency.replace('_', '-'))),
      $('<td></td>').text(r.customer.name),
      $('<td></td>').text(r.company ? r.company.name : '—'),
      $('<td class="text-right"></td>').text(money(r.value)),
      $('<td class="small text-warning recon-unmapped-reason"></td>').text(r.reason || ''));
    return $tr;
  }
  function pickedRows() {
    return Object.keys(unmapped.picked).map(function (id) { return unmapped.picked[id]; });
  }
  function updateUnmappedSelection() {
    var rows = pickedRows();
    var companies = {};
    rows.forEach(function (r) { companies[r.customer.id] = r.company.name; });  // a company is mapped to one customer
    var names = Object.keys(companies).map(function (k) { return companies[k]; });
    var one = names.length === 1;
    $('#associate-selected').prop('disabled', !one);
    $('#unmapped-selection').text(!rows.length ? 'Select subscriptions of one company.' :
      one ? rows.length + ' selected, of ' + names[0] + '.' :
      rows.length + ' selected across ' + names.length + ' companies: select subscriptions of one company to associate them together.');
  }
  function associateSelected() {
    var rows = pickedRows();
    if (!rows.length) { return; }
    var customerId = rows[0].customer.id;
    psaFetch(API + '/customers/' + customerId + '/subscriptions').then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      openAssociate(resp.body, rows.map(function (r) { return r.id; }), 'unmapped-subs');
    });
  }
  $('#unmapped-subs-search').on('input', debounce(function () { unmapped.page = 1; loadUnmapped(); }));
  $('#unmapped-subs-table').on('change', '.unmapped-pick', function () {
    var id = Number(this.value);
    if (this.checked) { unmapped.picked[id] = unmapped.rows[id]; } else { delete unmapped.picked[id]; }
    updateUnmappedSelection();
  });
  $('#unmapped-all').on('change', function () {
    var on = this.checked;
    $('#unmapped-subs-table .unmapped-pick:not(:disabled)').each(function () { $(this).prop('checked', on).trigger('change'); });
  });
  $('#associate-selected').on('click', associateSelected);
  function showUnmappedView() {
    $('#tab-subscriptions').tab('show');
    $('#tab-subs-unmapped').tab('show');
    $('#subscriptions')[0].scrollIntoView({block: 'start'});
  }

  /* Associate -> Create Subscription Mapping */
  function openAssociate(data, pickIds, origin) {
    subs.customer = data.customer;
    subs.origin = origin || 'subs-' + data.customer.id;
    subs.rows = data.result.filter(function (r) { return !r.mapping; });
    $('#assoc-error').addClass('hidden').text('');
    $('#assoc-customer').text(data.customer.name);
    $('#assoc-customer-id').text('(' + data.customer.external_id + ')');
    $('#assoc-company').text(data.customer.company ? data.customer.company.name + ' (ConnectWise #' + data.customer.company.remote_id + ')' : '');
    $('#assoc-search').val('');
    $('#assoc-mode-all').prop('checked', true);
    $('#assoc-accept-mismatch').prop('checked', false);
    $('#assoc-from-date').val('');
    var $body = $('#assoc-subs tbody').empty();
    subs.rows.forEach(function (r) {
      $body.append($('<tr class="assoc-sub"></tr>').attr('data-name', (r.name + ' ' + r.external_id).toLowerCase()).append(
        $('<td></td>').append($('<input type="checkbox" class="assoc-pick">').val(r.id).prop('checked', pickIds.indexOf(r.id) >= 0).attr('aria-label', 'Select ' + r.name)),
        $('<td></td>').text(r.name), $('<td></td>').text(r.external_id), $('<td class="text-right"></td>').text(r.quantity),
        $('<td class="text-right"></td>').text(money(r.value)),
        $('<td class="assoc-bound"></td>'), $('<td class="assoc-from"></td>')).attr('data-subscription', r.id));
    });
    loadAgreements(data.customer.id).then(function (resp) {
      if (!resp.ok) { return popupError('#assoc-error', resp); }
      fillAgreements($('#assoc-agreement'));
      if (!$('#assoc-agreement option').length) {
        $('#assoc-agreement').append($('<option value="">No eligible agreement in ConnectWise for this company</option>'));
      }
      updateAssociate();
    });
    $('#associate-modal').modal('show');
  }

  function selectedRows() {
    var ids = $('#assoc-subs .assoc-pick:checked').map(function () { return Number(this.value); }).get();
    return subs.rows.filter(function (r) { return ids.indexOf(r.id) >= 0; });
  }

  /* Each subscription's own earliest From Date (the later of the agreement's billing start and its start),
     beside it; the From Date it would get; a custom date before its earliest is flagged on its row. */
  function earliestFor(a, r) { return laterDate(a ? a.lower_bound : null, r.start_date); }
  function customDate() { return $('#assoc-mode-custom').is(':checked') ? ($('#assoc-from-date').val() || '') : null; }
  function showBounds(a) {
    var custom = customDate(), tooEarly = 0;
    subs.rows.forEach(function (r) {
      var $tr = $('#assoc-subs tr.assoc-sub[data-subscription="' + r.id + '"]');
      var earliest = earliestFor(a, r);
      var picked = $tr.find('.assoc-pick').is(':checked');
      var early = picked && custom && custom < earliest;
      tooEarly += early ? 1 : 0;
      $tr.find('.assoc-bound').text(a ? earliest : '');
      $tr.find('.assoc-from').toggleClass('text-danger', !!early)
        .text(!picked || !a ? '' : early ? custom + ': before its earliest' : (custom === null ? earliest : custom || '—'));
    });
    return tooEarly;
  }

  function updateAssociate() {
    var a = agreementById($('#assoc-agreement').val());
    var picked = selectedRows();
    $('#assoc-agreement-help').text(a ? 'Agreement billing start: ' + (a.billing_start_date || a.start_date || 'not set in ConnectWise') +
      (a.billing_cycle ? ' · billed ' + a.billing_cycle : '') : '');
    $('#assoc-range').text('Up to ' + (subs.today || 'today') + ', not before a selected subscription\'s earliest From Date.');
    $('#assoc-from-date').attr({min: (a && a.lower_bound) || '', max: subs.today || ''});
    var tooEarly = showBounds(a);
    var freqs = {};
    picked.forEach(function (r) { freqs[r.frequency] = true; });
    var warnings = a ? Object.keys(freqs).map(function (f) { return a.warnings[f]; }).filter(Boolean) : [];
    $('#assoc-warning').toggleClass('hidden', !warnings.length).text(warnings.length ? warnings.join(' ') + ' You can still choose it.' : '');
    $('#assoc-accept').toggleClass('hidden', !warnings.length);
    if (!warnings.length) { $('#assoc-accept-mismatch').prop('checked', false); }
    $('#assoc-count').text(picked.length + ' of ' + subs.rows.length + ' unmapped subscriptions selected');
    $('#assoc-confirm').prop('disabled', true).text('Confirm');
    var $b = $('#assoc-preview-body');
    if (!picked.length || !a) { $b.html('<span class="text-muted">Select subscriptions and an agreement.</span>'); return; }
    if (customDate() === '') { $b.html('<span class="text-muted">Pick a custom From Date to see what will be sent.</span>'); return; }
    if (tooEarly) { $b.empty().append($('<span class="text-danger"></span>').text(tooEarly + ' selected subscription(s) cannot start that early: choose a later date or untick them.')); return; }
    previewAssociate(a, picked);
  }
  var debouncedUpdate = debounce(updateAssociate);

  function previewAssociate(a, picked) {
    var query = {customer_id: subs.customer.id, agreement_id: a.id, subscription_ids: picked.map(function (r) { return r.id; }).join(','),
                 from_date_mode: customDate() === null ? 'all' : 'custom'};
    if (customDate()) { query.from_date = customDate(); }
    var seq = ++subs.previewSeq;
    $('#assoc-preview-body').html('<span class="text-muted">Working out what will be sent…</span>');
    psaFetch(API + '/subscription-mappings/preview?' + qs(query)).then(function (resp) {
      if (seq !== subs.previewSeq) { return; }
      if (!resp.ok) { popupError('#assoc-error', resp); $('#assoc-preview-body').empty(); return; }
      $('#assoc-error').addClass('hidden');
      var p = resp.body;
      var $ul = $('<ul class="recon-preview"></ul>').append(
        $('<li id="assoc-preview-new"></li>').text(p.to_new + ' transaction(s) (' + money(p.to_new_amount) + ') will be pushed to ' +
          p.agreement.name + ' at the next push' + (heldBack('assoc') ? ', their charges held back as Blocked until you keep this agreement.' : '.')),
        $('<li id="assoc-preview-skip"></li>').text(p.to_skip + ' transaction(s) ending before their From Date (' +
          money(p.to_skip_amount) + ') will not be pushed.'));
      $('#assoc-preview-body').empty().append($ul);
      $('#assoc-confirm').prop('disabled', false).text('Confirm: push ' + p.to_new + ' transaction(s), ' + money(p.to_new_amount));
    });
  }

  function heldBack(prefix) {  /* a cycle mismatch the user has not accepted: the pushes block its charges */
    return !$('#' + prefix + '-accept').hasClass('hidden') && !$('#' + prefix + '-accept-mismatch').is(':checked');
  }

  function confirmAssociate() {
    var custom = $('#assoc-mode-custom').is(':checked');
    var body = {customer_id: subs.customer.id, agreement_id: Number($('#assoc-agreement').val()),
                subscription_ids: selectedRows().map(function (r) { return r.id; }),
                from_date_mode: custom ? 'custom' : 'all', accept_mismatch: $('#assoc-accept-mismatch').is(':checked')};
    if (custom) { body.from_date = $('#assoc-from-date').val() || null; }
    $('#assoc-confirm').prop('disabled', true);
    psaFetch(API + '/subscription-mappings', {method: 'POST', json: body}).then(function (resp) {
      if (!resp.ok) { popupError('#assoc-error', resp); updateAssociate(); return; }
      $('#associate-modal').modal('hide');
      if (subs.origin === 'unmapped-subs') { unmapped.picked = {}; }
      noticeFor(subs.origin, 'success', resp.body.mapped.length + ' subscription(s) of ' + subs.customer.name + ' mapped to ' + resp.body.mapped[0].agreement.name + '.');
      reloadAll();
    });
  }

  /* Change -> Change Subscription Mapping */
  function openChange(data, row) {
    subs.customer = data.customer;
    subs.change = row;
    $('#change-error').addClass('hidden').text('');
    $('#change-subscription').text(row.name);
    $('#change-subscription-id').text('(' + row.external_id + ')');
    $('#change-current').text(row.mapping.agreement.name + ' from ' + row.mapping.from_date);
    $('#change-mode-all').prop('checked', true);
    $('#change-accept-mismatch').prop('checked', false);
    $('#change-from-date').val('');
    $('#change-preview-body').html('<span class="text-muted">Loading…</span>');
    loadAgreements(data.customer.id).then(function (resp) {
      if (!resp.ok) { return popupError('#change-error', resp); }
      fillAgreements($('#change-agreement'), row.mapping.agreement.id, row.mapping.agreement.id);
      updateChange();
    });
    $('#change-modal').modal('show');
  }

  function changeBody() {
    var custom = $('#change-mode-custom').is(':checked');
    var body = {agreement_id: Number($('#change-agreement').val()), from_date_mode: custom ? 'custom' : 'all',
                accept_mismatch: $('#change-accept-mismatch').is(':checked')};
    if (custom) { body.from_date = $('#change-from-date').val() || null; }
    return body;
  }

  function updateChange() {
    var a = agreementById($('#change-agreement').val());
    var row = subs.change;
    if (!a) { return; }
    var lower = laterDate(a.lower_bound, row.start_date);
    $('#change-bill-start').text(a.billing_start_date || a.start_date || 'not set in ConnectWise');
    $('#change-sub-start').text(row.start_date);
    $('#change-all-date').text(lower);
    $('#change-range').text('From ' + lower + ' (its earliest From Date) to ' + subs.today);
    $('#change-from-date').attr({min: lower, max: subs.today});
    var warning = a.warnings[row.frequency];
    $('#change-warning').toggleClass('hidden', !warning).text(warning ? warning + ' You can still choose it.' : '');
    $('#change-accept').toggleClass('hidden', !warning);
    if (!warning) { $('#change-accept-mismatch').prop('checked', false); }
    var body = changeBody();
    $('#change-confirm').prop('disabled', true).text('Confirm');
    if (body.from_date_mode === 'custom' && !body.from_date) {
      $('#change-preview-body').html('<span class="text-muted">Pick a custom From Date to see what will happen.</span>');
      return;
    }
    var seq = ++subs.previewSeq;
    var query = {agreement_id: body.agreement_id, from_date_mode: body.from_date_mode};
    if (body.from_date) { query.from_date = body.from_date; }
    psaFetch(API + '/subscriptions/' + row.id + '/remap-preview?' + qs(query)).then(function (resp) {
      if (seq !== subs.previewSeq) { return; }
      if (!resp.ok) { popupError('#change-error', resp); $('#change-preview-body').empty(); return; }
      $('#change-error').addClass('hidden');
      showPreview(resp.body);
      $('#change-confirm').prop('disabled', false).text(changeConsequence(resp.body.preview));
    });
  }

  function showPreview(plan) {
    var p = plan.preview, $b = $('#change-preview-body').empty();
    var $ul = $('<ul class="recon-preview"></ul>');
    $ul.append($('<li id="preview-to-new"></li>').text(p.to_new.length + ' transaction(s) not yet pushed (' + money(p.to_new_amount) +
      ') will be pushed to ' + plan.agreement.name + ' from ' + plan.from_date + '.'));
    $ul.append($('<li id="preview-to-skip"></li>').text(p.to_skip.length + ' transaction(s) ending before ' + plan.from_date + ' (' +
      money(p.to_skip_amount) + ') will be skipped.'));
    var n = p.move_candidates.length;
    var from = (p.move_from && p.move_from.length) ? p.move_from.join(', ') : plan.current.agreement.name;
    var moveText = n ?
      n + ' transaction(s) already pushed to ' + from + ' after the new From Date (' + money(p.move_amount) + ') stay there unless you move them.' :
      'No transaction already pushed to ' + plan.current.agreement.name + ' lies after the new From Date, so nothing needs moving' +
      (p.pushed_count ? '.' : ' (none of this subscription\'s transactions has been pushed to ConnectWise yet).');
    $ul.append($('<li id="preview-move"></li>').text(moveText));
    if (p.in_flight.length) { $ul.append($('<li class="text-danger"></li>').text(p.in_flight.length + ' transaction(s) are being pushed to (or removed from) ConnectWise right now: wait for the push to finish.')); }
    $b.append($ul);
    if (!n) { return; }
    var $label = $('<label></label>').append($('<input type="checkbox" id="change-move">').attr('data-count', n),
      document.createTextNode(' Move these ' + n + ' pushed transaction(s) to ' + plan.agreement.name));
    $b.append($('<div class="checkbox recon-move"></div>').append($label));
    if (p.warning) { $b.append($('<div class="alert alert-warning" id="change-move-warning" role="alert"></div>').text(p.warning)); }
  }

  function changeConsequence(p) {
    return 'Confirm: push ' + p.to_new.length + ' transaction(s), ' + money(p.to_new_amount);
  }
  $('#change-modal').on('change', '#change-move', function () {
    var n = this.checked ? $(this).attr('data-count') : 0;
    var base = $('#change-confirm').text().replace(/, and move \d+ pushed$/, '');
    $('#change-confirm').text(base + (n ? ', and move ' + n + ' pushed' : ''));
  });

  function confirmChange() {
    var body = changeBody();
    body.move_pushed = $('#change-move').is(':checked');
    $('#change-confirm').prop('disabled', true);
    psaFetch(API + '/subscriptions/' + subs.change.id + '/mapping', {method: 'PUT', json: body}).then(function (resp) {
      if (!resp.ok) { popupError('#change-error', resp); $('#change-confirm').prop('disabled', false); return; }
      $('#change-modal').modal('hide');
      var moving = (resp.body.mapping.move_transaction_ids || []).length;
      noticeFor('subs-' + subs.customer.id, 'success', subs.change.name + ' is now mapped to ' + resp.body.mapping.agreement.name + ' from ' + resp.body.mapping.from_date + '.' +
        (moving ? ' ' + moving + ' pushed transaction(s) will move there at the next push.' : ''));
      reloadAll();
    });
  }

  $('#subs-search').on('input', debounce(function () { state.subsPage = 1; loadSubscriptions(); }));
  $('#assoc-agreement, #assoc-accept-mismatch').on('change', updateAssociate);
  $('#assoc-subs').on('change', '.assoc-pick', updateAssociate);
  $('#assoc-all').on('change', function () {
    $('#assoc-subs tr.assoc-sub:visible .assoc-pick').prop('checked', this.checked); updateAssociate();
  });
  $('#assoc-search').on('input', function () {
    var q = this.value.toLowerCase();
    $('#assoc-subs tr.assoc-sub').each(function () { $(this).toggle($(this).attr('data-name').indexOf(q) >= 0); });
  });
  $('#assoc-from-date').on('focus', function () { $('#assoc-mode-custom').prop('checked', true); });
  $('#assoc-from-date').on('change input', function () { $('#assoc-mode-custom').prop('checked', true); $('#assoc-error').addClass('hidden'); debouncedUpdate(); });
  $('input[name="assoc-mode"]').on('change', function () { $('#assoc-error').addClass('hidden'); updateAssociate(); });
  $('#assoc-confirm').on('click', confirmAssociate);
  $('#change-agreement, input[name="change-mode"]').on('change', updateChange);
  $('#change-from-date').on('change', function () { $('#change-mode-custom').prop('checked', true); updateChange(); });
  $('#change-confirm').on('click', confirmChange);

  /* #recon[data-busy] counts the reloads in flight: 0 once every list shows the latest state (tests wait on it). */
  var busy = 0;
  function reloadAll() {
    root.setAttribute('data-busy', String(++busy));
    var done = function () { root.setAttribute('data-busy', String(--busy)); };
    return Promise.all([loadSummary(), loadCustomers(), loadCompanies(), loadMapped(), loadSubscriptions(), loadUnmapped(), loadChart()])
      .then(done, done);
  }

  /* ---- wiring ---- */
  $('#customer-search').on('input', debounce(function () { state.customerPage = 1; loadCustomers(); }));
  $('#company-search').on('input', debounce(function () { state.companyPage = 1; loadCompanies(); }));
  $('#mapped-search').on('input', debounce(function () { state.mappedPage = 1; loadMapped(); }));
  $('#period').on('change', function () { state.period = this.value; reloadAll(); });
  $('[data-goto]').on('click', function (e) {
    e.preventDefault();
    var target = $(this).attr('data-goto');
    if (target === 'subscriptions') { showUnmappedView(); }
    else { $('#tab-customers').tab('show'); $('#tab-' + target).tab('show'); }
  });
  $('#associate').on('click', function () {
    if (state.selectedCustomer && state.selectedCompany) { mapCustomer(state.selectedCustomer.id, state.selectedCompany.id, 'manual'); }
  });
  $('#unmap-confirm').on('click', function () {
    var id = $(this).data('customer'), name = $(this).data('name'), company = $(this).data('company');
    var index = indexIn('#mapped-table tr.recon-mapped-row', 'data-customer', id);
    psaFetch(API + '/mappings/' + id, {method: 'DELETE'}).then(function (resp) {
      $('#unmap-modal').modal('hide');
      if (!resp.ok) { noticeFor('mapped', 'danger', errorOf(resp), index); }
      else { noticeFor('mapped', 'success', name + ' is disassociated from ' + company + ': it is back under Unmapped.', index); }
      reloadAll();
    });
  });
  $('#refresh-directory').on('click', function () {
    psaFetch(API + '/directory/refresh', {method: 'POST', json: {}}).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      pollDirectory();  // its progress shows in the directory bar until it has finished
    });
  });
  $('#map-exact').on('click', function () {
    psaFetch(API + '/exact-matches').then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $body = $('#exact-table tbody').empty();
      resp.body.pairs.forEach(function (p) {
        $body.append($('<tr></tr>').append(
          $('<td></td>').append($('<input type="checkbox" class="exact-pick" checked>').val(p.customer_id).attr('aria-label', 'Map ' + p.customer_name)),
          $('<td></td>').text(p.customer_name), $('<td></td>').text(p.company_name)));
      });
      if (!resp.body.pairs.length) { $body.append($('<tr><td colspan="3" class="text-muted">No unmapped customer has an exact-name match.</td></tr>')); }
      var $ex = $('#exact-excluded').empty();
      if (resp.body.excluded.length) {
        $ex.append($('<p></p>').text('Same names that will not be mapped automatically:'));
        var $ul = $('<ul class="small"></ul>');
        resp.body.excluded.forEach(function (e) { $ul.append($('<li></li>').text(e.name + ' — ' + e.text)); });
        $ex.append($ul);
      }
      $('#exact-confirm').prop('disabled', !resp.body.pairs.length).text('Map ' + resp.body.pairs.length + ' customers');
      $('#exact-modal').modal('show');
    });
  });
  $('#exact-table').on('change', '.exact-pick', function () {
    var n = $('#exact-table .exact-pick:checked').length;
    $('#exact-confirm').prop('disabled', !n).text('Map ' + n + ' customers');
  });
  $('#exact-confirm').on('click', function () {
    var ids = $('#exact-table .exact-pick:checked').map(function () { return Number(this.value); }).get();
    psaFetch(API + '/exact-matches', {method: 'POST', json: {customer_ids: ids}}).then(function (resp) {
      $('#exact-modal').modal('hide');
      if (!resp.ok) { noticeFor('customers', 'danger', errorOf(resp), 0); }
      else { noticeFor('customers', 'success', resp.body.mapped.length + ' customers mapped by exact name: they are now under Mapped.', 0); }
      reloadAll();
    });
  });
  /* Deep link from a run's failed rows:
     #subscriptions&customer=<id>&subscription=<id>&q=<customer name> opens the customer's subscriptions. */
  function openFromHash() {
    var parts = (window.location.hash || '').slice(1).split('&');
    if (parts[0] === 'unmapped-subscriptions') { showUnmappedView(); return; }
    if (parts[0] !== 'subscriptions') { return; }
    var args = {};
    parts.slice(1).forEach(function (p) { var kv = p.split('='); args[kv[0]] = decodeURIComponent(kv[1] || ''); });
    $('#tab-subscriptions').tab('show');
    if (args.q) { $('#subs-search').val(args.q); }
    if (Number(args.customer)) { subs.open[Number(args.customer)] = true; subs.target = Number(args.subscription) || null; }
  }
  function showTarget() {
    if (!subs.target) { return; }
    var $row = $('tr.recon-sub[data-subscription="' + subs.target + '"]');
    if (!$row.length) { return; }
    subs.target = null;
    $row.addClass('recon-target')[0].scrollIntoView({block: 'center'});
  }
  /* The billing sync widget (sync.js): when a push ends, figures, chart and open subscriptions show its result. */
  document.addEventListener('psa:sync-finished', function () { reloadAll(); });
  openFromHash();
  reloadAll();
})(jQuery);
