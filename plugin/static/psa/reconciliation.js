/* Reconciliation Center: indicators, chart, Customers tab (drag and drop / keyboard), Products / Subscriptions. */
(function ($) {
  var root = document.getElementById('recon');
  if (!root) { return; }
  var API = root.getAttribute('data-api');
  var canWrite = root.getAttribute('data-can-write') === 'true';
  var PAGE = 25;
  var state = {customerPage: 1, companyPage: 1, mappedPage: 1, subsPage: 1, period: 'all',
               selectedCustomer: null, selectedCompany: null, currency: 'USD', polling: null};
  var METHODS = {manual: 'Manual', exact: 'Exact name', suggestion: 'Suggestion'};

  function money(value) {
    var n = Number(value || 0);
    try { return n.toLocaleString(undefined, {style: 'currency', currency: state.currency}); }
    catch (e) { return state.currency + ' ' + n.toFixed(2); }
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : 'never'; }
  function qs(params) { return Object.keys(params).map(function (k) { return k + '=' + encodeURIComponent(params[k]); }).join('&'); }
  function alertBox(kind, text) {
    $('#recon-alert').removeClass('hidden alert-success alert-danger alert-info').addClass('alert-' + kind).text(text);
  }
  function failed(resp) {
    var body = resp.body || {};
    var details = body.errors ? ' ' + Object.keys(body.errors).map(function (k) { return k + ': ' + [].concat(body.errors[k]).join(', '); }).join('; ') : '';
    alertBox('danger', (body.message || ('Request failed (' + resp.status + ').')) + details);
  }
  function debounce(fn) { var t; return function () { clearTimeout(t); t = setTimeout(fn, 250); }; }

  function pager(el, page, total, onPage) {
    var pages = Math.max(1, Math.ceil(total / PAGE));
    var $el = $(el).empty();
    if (pages <= 1) { return; }
    var prev = $('<button type="button" class="btn btn-default btn-xs">&lsaquo; Prev</button>').prop('disabled', page <= 1);
    var next = $('<button type="button" class="btn btn-default btn-xs">Next &rsaquo;</button>').prop('disabled', page >= pages);
    prev.on('click', function () { onPage(page - 1); });
    next.on('click', function () { onPage(page + 1); });
    $el.append(prev, $('<span class="recon-page"></span>').text(' Page ' + page + ' of ' + pages + ' '), next);
  }

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
      $('#badge-unmapped').text(s.unmapped_customers);
      $('#badge-mapped').text(s.mapped_customers);
      $('#subscriptions-summary').text(s.mapped_subscriptions + ' of ' + s.subscriptions + ' subscriptions are mapped to ConnectWise agreements.');
      showDirectory(s.directory);
    });
  }

  function showDirectory(d) {
    var text = 'last refreshed ' + when(d.last_refreshed_at);
    if (d.progress && d.progress.companies !== undefined && d.status === 'done') {
      text += ' (' + d.progress.companies + ' companies, ' + d.progress.agreements + ' agreements read)';
    }
    if (d.status === 'never') { text = 'never refreshed — refresh it to load your ConnectWise companies'; }
    $('#directory-status').text(text);
    var running = d.status === 'queued' || d.status === 'running';
    $('#directory-progress').toggleClass('hidden', !running);
    if (running) {
      var p = d.progress || {};
      $('#directory-progress .progress-bar').text(d.status === 'queued' ? 'Queued…' :
        'Reading ' + (p.phase || '') + '… ' + (p.companies || 0) + ' companies, ' + (p.agreements || 0) + ' agreements');
    }
    $('#refresh-directory').prop('disabled', running);
    $('#directory-error').toggleClass('hidden', d.status !== 'failed').text(d.status === 'failed' ? d.error || 'The refresh failed.' : '');
    if (running && !state.polling) {
      state.polling = setInterval(pollDirectory, 1500);
    } else if (!running && state.polling) {
      clearInterval(state.polling); state.polling = null; reloadAll();
    }
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
      loadSuggestions(resp.body.result.map(function (c) { return c.id; }));
    });
  }

  function loadSuggestions(ids) {
    if (!ids.length) { return; }
    psaFetch(API + '/suggestions?' + qs({customer_ids: ids.join(',')})).then(function (resp) {
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
        $list.append($('<li class="list-group-item text-muted"></li>').text('No unmapped ConnectWise companies in the local directory. Refresh the directory if some are missing.'));
      }
      resp.body.result.forEach(function (co) {
        var $li = $('<li class="list-group-item recon-company"></li>');
        $li.append($('<span class="recon-name"></span>').text(co.name),
          $('<span class="text-muted small"></span>').text(' ' + co.identifier + ' · #' + co.cw_id));
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
    return psaFetch(API + '/mappings', {method: 'POST', json: body}).then(function (resp) {
      if (!resp.ok) { failed(resp); return reloadAll(); }
      alertBox('success', 'Mapped to ' + resp.body.company.name + '. The customer is now under Mapped and its subscriptions can be associated.');
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
            $('#unmap-confirm').data('customer', c.id);
            $('#unmap-modal').modal('show');
          }));
        }
        $tr.append($act);
        $body.append($tr);
      });
      pager('#mapped-pager', state.mappedPage, resp.body.total, function (p) { state.mappedPage = p; loadMapped(); });
    });
  }

  function loadSubscriptions() {
    var params = {state: 'mapped', q: '', page: state.subsPage, page_size: PAGE, period: state.period};
    return psaFetch(API + '/customers?' + qs(params)).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      var $body = $('#subscriptions-table tbody').empty();
      if (!resp.body.result.length) { $body.append($('<tr><td colspan="4" class="text-muted">No mapped customers yet: map customers on the Customers tab first.</td></tr>')); }
      resp.body.result.forEach(function (c) {
        var cls = c.subscriptions_mapped < c.subscriptions ? 'warning' : '';
        $body.append($('<tr></tr>').addClass(cls).append($('<td></td>').text(c.name), $('<td></td>').text(c.company ? c.company.name : ''),
          $('<td></td>').text(c.subscriptions_mapped + ' of ' + c.subscriptions + ' subscriptions mapped'),
          $('<td class="text-right"></td>').text(money(c.unsynchronized))));
      });
      pager('#subscriptions-pager', state.subsPage, resp.body.total, function (p) { state.subsPage = p; loadSubscriptions(); });
    });
  }

  function reloadAll() {
    return Promise.all([loadSummary(), loadCustomers(), loadCompanies(), loadMapped(), loadSubscriptions(), loadChart()]);
  }

  /* ---- wiring ---- */
  $('#customer-search').on('input', debounce(function () { state.customerPage = 1; loadCustomers(); }));
  $('#company-search').on('input', debounce(function () { state.companyPage = 1; loadCompanies(); }));
  $('#mapped-search').on('input', debounce(function () { state.mappedPage = 1; loadMapped(); }));
  $('#period').on('change', function () { state.period = this.value; reloadAll(); });
  $('[data-goto]').on('click', function (e) {
    e.preventDefault();
    var target = $(this).attr('data-goto');
    if (target === 'subscriptions') { $('#tab-subscriptions').tab('show'); }
    else { $('#tab-customers').tab('show'); $('#tab-' + target).tab('show'); }
  });
  $('#associate').on('click', function () {
    if (state.selectedCustomer && state.selectedCompany) { mapCustomer(state.selectedCustomer.id, state.selectedCompany.id, 'manual'); }
  });
  $('#unmap-confirm').on('click', function () {
    var id = $(this).data('customer');
    psaFetch(API + '/mappings/' + id, {method: 'DELETE'}).then(function (resp) {
      $('#unmap-modal').modal('hide');
      if (!resp.ok) { failed(resp); } else { alertBox('success', 'Disassociated. The customer is back under Unmapped.'); }
      reloadAll();
    });
  });
  $('#refresh-directory').on('click', function () {
    psaFetch(API + '/directory/refresh', {method: 'POST', json: {}}).then(function (resp) {
      if (!resp.ok) { return failed(resp); }
      alertBox('info', resp.body.queued ? 'Directory refresh started.' : 'A directory refresh is already running.');
      pollDirectory();
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
      if (!resp.ok) { failed(resp); } else { alertBox('success', resp.body.mapped.length + ' customers mapped by exact name.'); }
      reloadAll();
    });
  });
  reloadAll();
})(jQuery);
