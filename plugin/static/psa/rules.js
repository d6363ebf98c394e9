/* Configure Product Defaults: renders the rules and drives the REST API (/api/v1/psa_rules/). */
(function ($) {
  'use strict';
  var API = '/api/v1/psa_rules/';
  var state = JSON.parse(document.getElementById('rules-data').textContent);
  var labels = JSON.parse(document.getElementById('rules-labels').textContent);
  var editor = {mode: null, rule: null};
  var matching = {rule: null, page: 1, q: ''};
  var previewTimer = null, searchTimer = null, previewSeq = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else if (k === 'cls') { node.className = attrs[k]; }
      else if (k.indexOf('on') === 0) { node.addEventListener(k.slice(2), attrs[k]); } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); } });
    return node;
  }
  function norm(s) { return (s || '').normalize('NFC').toLowerCase().normalize('NFC').trim(); }
  function plural(n) { return n + ' Product' + (n === 1 ? '' : 's'); }
  function message(text, kind) {
    var box = $('#page-message');
    box.removeClass('hidden alert-success alert-danger alert-info').addClass('alert-' + (kind || 'info')).text(text);
  }
  /* An API error in plain words: the field messages without their field keys (the keys place them next to their
     field, see showFieldErrors); the API's summary repeats those keys, so with field errors it is left out. */
  function errorText(body) {
    var fields = Object.keys(body.errors || {});
    var parts = [fields.length ? 'Nothing was saved.' : (body.message || 'Something went wrong.')];
    fields.forEach(function (k) { parts.push([].concat(body.errors[k]).join(' ')); });
    return parts;
  }

  /* Field errors next to their field. Keys: attributes.category, conditions.0.value, priority…; `all` false shows
     only those of fields the user has left (blur) or changed, so a new rule never opens in red. Returns the
     messages no field takes. */
  var FIELD_IDS = {category: '#f-category', subcategory: '#f-subcategory', type: '#f-type', product_class: '#f-class',
                   priority: '#f-priority'};
  function fieldFor(key) {
    var k = key.replace(/^attributes\./, ''), m = /^conditions\.(\d+)\.(field|operator|value)$/.exec(k);
    if (m) { return $('#conditions .psa-condition-row').eq(Number(m[1])).find('[data-part=' + m[2] + ']'); }
    if (k === 'conditions') { return $('#conditions'); }
    return FIELD_IDS[k] ? $(FIELD_IDS[k]) : $();
  }
  function clearFieldErrors() {
    $('#rule-modal .psa-field-error').remove();
    $('#rule-modal .has-error').removeClass('has-error');
  }
  function showFieldErrors(errors, all) {
    clearFieldErrors();
    var loose = [];
    Object.keys(errors || {}).forEach(function (key) {
      var $field = fieldFor(key), text = [].concat(errors[key]).join(' ');
      if (!$field.length) { loose.push(text); return; }
      if (!all && !$field.is('[data-touched]') && !$field.find('[data-touched]').length) { return; }
      var $box = $field.is('#conditions') ? $('#conditions-block') : $field.parent();
      $box.addClass('has-error').append($('<p class="help-block psa-field-error"></p>').attr('data-error-for', key).text(text));
    });
    return loose;
  }

  // --- page ---------------------------------------------------------------------
  function attrs(rule) {
    var dl = el('dl', {cls: 'dl-horizontal psa-attrs'});
    [['Category', 'category'], ['Subcategory', 'subcategory'], ['Type', 'type'], ['Class', 'product_class']].forEach(function (p) {
      var isNew = (rule.will_create || []).indexOf(p[1]) >= 0;
      dl.appendChild(el('dt', {text: p[0]}));
      dl.appendChild(el('dd', {'data-attr': p[1]}, [rule[p[1]], isNew ? el('span', {cls: 'psa-new', text: ' (will be created in ConnectWise)'}) : null]));
    });
    return dl;
  }
  function ruleCard(rule, index) {
    var write = state.can_write;
    var buttons = el('span', {cls: 'pull-right'}, [
      el('button', {type: 'button', cls: 'btn btn-default btn-xs', 'data-action': 'matching', onclick: function () { openMatching(rule); }}, ['Matching Products']),
      write ? el('button', {type: 'button', cls: 'btn btn-default btn-xs', title: 'Move up', 'aria-label': 'Move up', 'data-action': 'up',
        onclick: function () { move(rule, 'up'); }}, ['\u2191']) : null,
      write ? el('button', {type: 'button', cls: 'btn btn-default btn-xs', title: 'Move down', 'aria-label': 'Move down', 'data-action': 'down',
        onclick: function () { move(rule, 'down'); }}, ['\u2193']) : null,
      write ? el('button', {type: 'button', cls: 'btn btn-primary btn-xs', 'data-action': 'edit', onclick: function () { openEditor('edit', rule); }}, ['Edit']) : null,
      write ? el('button', {type: 'button', cls: 'btn btn-danger btn-xs', 'data-action': 'delete', onclick: function () { openDelete(rule); }}, ['Delete']) : null
    ]);
    if (index === state.rules.length - 1) { $(buttons).find('[data-action=down]').attr('disabled', 'disabled'); }
    if (index === 0) { $(buttons).find('[data-action=up]').attr('disabled', 'disabled'); }
    return el('div', {cls: 'panel panel-default psa-rule', 'data-rule-id': rule.id}, [
      el('div', {cls: 'panel-heading'}, [buttons, el('strong', {text: 'Priority ' + rule.priority + ' \u00b7 Rule ' + rule.id})]),
      el('div', {cls: 'panel-body'}, [
        el('p', {cls: 'psa-conditions'}, ['Conditions: ', el('span', {text: rule.description.join(' AND ')})]),
        attrs(rule),
        el('p', {cls: 'psa-rule-count', 'data-count': rule.count, text: 'Currently applies to ' + plural(rule.count) + '.'})
      ])
    ]);
  }
  function render() {
    var list = document.getElementById('rules-list');
    list.textContent = '';
    if (!state.rules.length) { list.appendChild(el('p', {cls: 'text-muted', text: 'No custom rules yet: every product gets the Default Rule.'})); }
    state.rules.forEach(function (rule, i) { list.appendChild(ruleCard(rule, i)); });
    var d = state['default'], box = document.getElementById('default-rule');
    box.textContent = '';
    box.appendChild(el('div', {cls: 'panel panel-info psa-rule', 'data-rule-id': 'default'}, [
      el('div', {cls: 'panel-heading'}, [
        state.can_write ? el('button', {type: 'button', cls: 'btn btn-primary btn-xs pull-right', 'data-action': 'edit-default', onclick: function () { openEditor('default', d); }}, ['Edit']) : null,
        el('strong', {text: 'Default Rule'})]),
      el('div', {cls: 'panel-body'}, [
        el('p', {text: 'Applies to all products when no other rules match.'}), attrs(d),
        el('p', {cls: 'psa-rule-count', 'data-count': d.count, text: 'Currently applies to ' + plural(d.count) + '.'})])
    ]));
    document.getElementById('total-products').textContent = state.total_products + ' products in your catalog';
    var l = state.lists, status = l.refreshed_at ? 'last refreshed ' + psaWhen(l.refreshed_at) : 'never refreshed';
    if (l.status === 'queued') { status += ' (refresh queued\u2026)'; }
    if (l.status === 'failed') { status += ' (last refresh failed: ' + l.error + ')'; }
    document.getElementById('lists-status').textContent = status;
    $('[data-write]').toggle(!!state.can_write);
  }
  function reload() {
    return psaFetch(API).then(function (r) { if (r.ok) { state = r.body; render(); } return r; });
  }

  // --- editor -------------------------------------------------------------------
  function options(select, values, chosen) {
    select.textContent = '';
    values.forEach(function (v) { select.appendChild(el('option', {value: v[0], text: v[1]})); });
    if (chosen !== undefined && chosen !== null) { select.value = chosen; }
  }
  function conditionRow(c) {
    var field = el('select', {cls: 'form-control input-sm', 'data-part': 'field', 'aria-label': 'Field'});
    options(field, Object.keys(labels.fields).map(function (k) { return [k, labels.fields[k]]; }), c.field);
    var op = el('select', {cls: 'form-control input-sm', 'data-part': 'operator', 'aria-label': 'Operator'});
    options(op, [['equals', 'equals'], ['not_equals', 'not equals'], ['contains', 'contains'], ['starts_with', 'starts with'], ['in', 'is one of']], c.operator);
    var value = el('input', {cls: 'form-control input-sm', 'data-part': 'value', 'aria-label': 'Value', maxlength: '2000',
      placeholder: 'value (for "is one of": comma-separated)'});
    value.value = Array.isArray(c.value) ? c.value.join(', ') : (c.value || '');
    var row = el('div', {cls: 'row psa-condition-row'}, [
      el('div', {cls: 'col-sm-3'}, [field]), el('div', {cls: 'col-sm-3'}, [op]), el('div', {cls: 'col-sm-5'}, [value]),
      el('div', {cls: 'col-sm-1'}, [el('button', {type: 'button', cls: 'btn btn-link btn-sm', 'aria-label': 'Remove condition', text: '\u00d7',
        onclick: function () { row.parentNode.removeChild(row); schedulePreview(); }})])]);
    [field, op, value].forEach(function (n) { n.addEventListener('input', schedulePreview); n.addEventListener('change', schedulePreview); });
    return row;
  }
  function collect() {
    var body = {category: $('#f-category').val(), subcategory: $('#f-subcategory').val(), type: $('#f-type').val(),
      product_class: $('#f-class').val()};
    if (editor.mode === 'default') { body.version = editor.rule.version; return body; }
    body.conditions = $('#conditions .psa-condition-row').map(function () {
      var row = $(this), operator = row.find('[data-part=operator]').val(), value = row.find('[data-part=value]').val();
      return {field: row.find('[data-part=field]').val(), operator: operator,
        value: operator === 'in' ? value.split(',').map(function (s) { return s.trim(); }).filter(Boolean) : value};
    }).get();
    body.priority = parseInt($('#f-priority').val(), 10);
    if (editor.rule) { body.version = editor.rule.version; }
    return body;
  }
  function cachedCategory() {
    var wanted = norm($('#f-category').val());
    return state.lists.categories.filter(function (c) { return norm(c.name) === wanted; })[0];
  }
  function markNew() {
    var lists = state.lists, cat = cachedCategory();
    var subs = lists.subcategories.filter(function (s) { return cat && s.category_id === cat.id; });
    var dl = document.getElementById('dl-subcategory');
    dl.textContent = '';
    subs.forEach(function (s) { dl.appendChild(el('option', {value: s.name})); });
    var known = {category: lists.categories, subcategory: subs, type: lists.types};
    Object.keys(known).forEach(function (k) {
      var v = norm($('#f-' + k).val());
      var isNew = v !== '' && !known[k].some(function (e) { return norm(e.name) === v; });
      $('[data-new-for=' + k + ']').toggleClass('hidden', !isNew);
    });
  }
  function openEditor(mode, rule) {
    editor = {mode: mode, rule: rule, submitted: false};
    $('#rule-errors').addClass('hidden').empty();
    clearFieldErrors();
    $('#rule-modal [data-touched]').removeAttr('data-touched');
    $('#rule-modal-title').text(mode === 'create' ? 'Add New Rule' : mode === 'edit' ? 'Edit Rule ' + rule.id : 'Edit Default Rule');
    $('#conditions-block, #priority-group, #preview-panel').toggle(mode !== 'default');
    var conditions = document.getElementById('conditions');
    conditions.textContent = '';
    (rule && rule.conditions ? rule.conditions : [{field: 'publisher', operator: 'equals', value: ''}]).forEach(function (c) { conditions.appendChild(conditionRow(c)); });
    var lists = state.lists;
    ['category', 'type'].forEach(function (k) {
      var dl = document.getElementById('dl-' + k); dl.textContent = '';
      lists[k === 'category' ? 'categories' : 'types'].forEach(function (e) { dl.appendChild(el('option', {value: e.name})); });
    });
    options(document.getElementById('f-class'), lists.product_classes.map(function (c) { return [c, c]; }), rule ? rule.product_class : 'Agreement');
    $('#f-category').val(rule ? rule.category : ''); $('#f-subcategory').val(rule ? rule.subcategory : ''); $('#f-type').val(rule ? rule.type : '');
    var n = state.rules.length + (mode === 'create' ? 1 : 0), prios = [];
    for (var i = 1; i <= n; i++) { prios.push([i, String(i) + (i === 1 ? ' (checked first)' : '')]); }
    options(document.getElementById('f-priority'), prios, mode === 'edit' ? rule.priority : n);
    markNew();
    $('#preview').text('Fill in the conditions to see which products would move.');
    $('#rule-modal').modal('show');
    schedulePreview();
  }
  function schedulePreview() {
    markNew();
    if (editor.mode === 'default') { return; }
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 250);
  }
  /* The empty fields of the editor, in the API's error shape (checked here first: no request goes out for them). */
  function missing(body) {
    var errors = {};
    (body.conditions || []).forEach(function (c, i) {
      if (!(Array.isArray(c.value) ? c.value.length : String(c.value || '').trim())) { errors['conditions.' + i + '.value'] = ['Enter a value.']; }
    });
    if (body.conditions && !body.conditions.length) { errors.conditions = ['Add at least one condition.']; }
    [['category', 'Enter a category.'], ['subcategory', 'Enter a subcategory.'], ['type', 'Enter a type.']].forEach(function (f) {
      if (!String(body[f[0]] || '').trim()) { errors['attributes.' + f[0]] = [f[1]]; }
    });
    return errors;
  }
  function runPreview() {
    var body = collect(), seq = ++previewSeq, empty = missing(body);
    if (Object.keys(empty).length) {
      showFieldErrors(empty, editor.submitted);
      $('#preview').empty().append($('<p class="text-muted"></p>').text(
        'Fill in each condition and the Category, Subcategory and Type to see which products would move.'));
      return;
    }
    body.action = editor.mode; body.rule_id = editor.rule ? editor.rule.id : null;
    psaFetch(API + 'preview', {method: 'POST', json: body}).then(function (r) {
      if (seq !== previewSeq) { return; }
      var box = document.getElementById('preview'); box.textContent = '';
      if (!r.ok) {
        showFieldErrors(r.body.errors, editor.submitted);
        box.appendChild(el('p', {cls: 'text-muted', text: 'Fill in each condition and the Category, Subcategory and Type to see which products would move.'}));
        return;
      }
      showFieldErrors({}, false);
      $('#rule-errors').addClass('hidden').empty();  // every field holds now
      if (!r.body.moves.length) { box.appendChild(el('p', {text: 'No product would change rule.'})); }
      var ul = el('ul', {cls: 'psa-moves'});
      r.body.moves.forEach(function (m) { ul.appendChild(el('li', {text: m.text + '.'})); });
      box.appendChild(ul);
      var mine = r.body.counts[String(r.body.subject)];
      box.appendChild(el('p', {cls: 'psa-preview-count', text: 'This rule would apply to ' + plural(mine || 0) + '; the Default Rule to ' + plural(r.body.counts['default']) + '.'}));
    });
  }
  function save() {
    var body = collect(), url = API, method = 'POST', empty = missing(body);
    if (Object.keys(empty).length) {
      editor.submitted = true;
      showFieldErrors(empty, true);
      $('#rule-errors').removeClass('hidden').empty().append($('<div>').text('The rule was not saved: please correct the fields marked in red.'));
      return;
    }
    if (editor.mode === 'edit') { url = API + editor.rule.id; method = 'PUT'; }
    if (editor.mode === 'default') { url = API + 'default'; method = 'PUT'; }
    $('#save-rule').prop('disabled', true);
    psaFetch(url, {method: method, json: body}).then(function (r) {
      $('#save-rule').prop('disabled', false);
      if (!r.ok) {
        editor.submitted = true;
        var loose = showFieldErrors(r.body.errors, true);
        var box = $('#rule-errors').removeClass('hidden').empty();
        box.append($('<div>').text(Object.keys(r.body.errors || {}).length ?
          'The rule was not saved: please correct the fields marked in red.' : (r.body.message || 'The rule was not saved.')));
        loose.forEach(function (t) { box.append($('<div>').text(t)); });
        return;
      }
      state = r.body; render(); $('#rule-modal').modal('hide');
      message(editor.mode === 'create' ? 'Rule added.' : 'Rule saved.', 'success');
    });
  }

  // --- move, delete ---------------------------------------------------------------
  function move(rule, direction) {
    psaFetch(API + rule.id + '/move', {method: 'PUT', json: {direction: direction}}).then(function (r) {
      if (r.ok) { state = r.body; render(); message('Rule ' + rule.id + ' moved ' + direction + '; counts updated.', 'success'); }
      else { message(errorText(r.body).join(' '), 'danger'); }
    });
  }
  function openDelete(rule) {
    $('#delete-text').text('Delete Rule ' + rule.id + ' (' + rule.description.join(' AND ') + ')?');
    $('#delete-preview').text('');
    psaFetch(API + 'preview', {method: 'POST', json: {action: 'delete', rule_id: rule.id}}).then(function (r) {
      if (r.ok) { $('#delete-preview').text(r.body.moves.map(function (m) { return m.text + '.'; }).join(' ') || 'No product changes rule.'); }
    });
    $('#confirm-delete').off('click').on('click', function () {
      psaFetch(API + rule.id + '?version=' + rule.version, {method: 'DELETE'}).then(function (r) {
        $('#delete-modal').modal('hide');
        if (r.ok) { state = r.body; render(); message('Rule ' + rule.id + ' deleted.', 'success'); }
        else { message(errorText(r.body).join(' '), 'danger'); }
      });
    });
    $('#delete-modal').modal('show');
  }

  // --- matching products ---------------------------------------------------------------
  function openMatching(rule) {
    matching = {rule: rule, page: 1, q: ''};
    $('#matching-title').text('Matching Products \u00b7 Rule ' + rule.id);
    $('#matching-conditions').text(rule.description.join(' AND '));
    $('#matching-search').val('');
    loadMatching();
    $('#matching-modal').modal('show');
  }
  function loadMatching() {
    var url = API + matching.rule.id + '/matching?page=' + matching.page + '&page_size=25&q=' + encodeURIComponent(matching.q);
    psaFetch(url).then(function (r) {
      var tbody = document.querySelector('#matching-table tbody'); tbody.textContent = '';
      if (!r.ok) { $('#matching-info').text(errorText(r.body).join(' ')); return; }
      r.body.result.forEach(function (p) {
        tbody.appendChild(el('tr', {cls: p.claimed_by === null ? '' : 'psa-claimed'}, [
          el('td', {text: p.publisher}), el('td', {text: p.item_type}), el('td', {text: p.product_id}),
          el('td', {text: p.title + ' (' + p.billing_term + ', ' + p.billing_frequency + ')'}),
          el('td', {text: p.claimed_by === null ? '' : 'classified by ' + (p.claimed_by === 'default' ? 'Default Rule' : 'Rule ' + p.claimed_by) + ' (higher priority)'})]));
      });
      $('#matching-info').text(r.body.total + ' product' + (r.body.total === 1 ? '' : 's') + ' \u00b7 page ' + r.body.page + ' of ' + r.body.pages);
      $('#matching-prev').prop('disabled', r.body.page <= 1);
      $('#matching-next').prop('disabled', r.body.page >= r.body.pages);
    });
  }

  // --- lists refresh -------------------------------------------------------------------
  function refreshLists() {
    psaFetch(API + 'lists/refresh', {method: 'POST'}).then(function (r) {
      if (!r.ok) { message(errorText(r.body).join(' '), 'danger'); return; }
      state.lists.status = 'queued'; render(); poll(30);
    });
  }
  function poll(left) {
    if (left <= 0) { return; }
    setTimeout(function () { reload().then(function () { if (state.lists.status === 'queued') { poll(left - 1); } }); }, 2000);
  }

  $(function () {
    render();
    $('#add-rule').on('click', function () { openEditor('create', null); });
    $('#add-condition').on('click', function () { document.getElementById('conditions').appendChild(conditionRow({})); schedulePreview(); });
    $('#f-category, #f-subcategory, #f-type, #f-class, #f-priority').on('input change', schedulePreview);
    $('#save-rule').on('click', save);
    /* A field counts as acted on once the user leaves it or changes it: only then may its error show. */
    $('#rule-modal').on('focusout change', 'input, select', function () { this.setAttribute('data-touched', ''); schedulePreview(); });
    $('#refresh-lists').on('click', refreshLists);
    $('#matching-search').on('input', function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { matching.q = $('#matching-search').val(); matching.page = 1; loadMatching(); }, 250);
    });
    $('#matching-prev').on('click', function () { matching.page -= 1; loadMatching(); });
    $('#matching-next').on('click', function () { matching.page += 1; loadMatching(); });
    if (state.lists.status === 'queued') { poll(15); }
  });
})(jQuery);
