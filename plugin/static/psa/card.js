/* The ConnectWise card: confirm -> form -> save (one request at a time) -> the form stays open and polls the
   status endpoint while the validation job runs: a refusal shows in the form (every field kept but the private
   key), success closes it and swaps in the card and the menu. Closed early, the card follows the job itself. */
(function () {
  var POLL_MS = 1000;
  var STATUS_URL = '/api/v1/psa_integration/';
  var polling = false;
  var formWatch = null;  // the save the open form waits for: {timer}
  var $ = window.jQuery;

  function byId(id) { return document.getElementById(id); }

  function afterHidden(id, next) {
    var el = $('#' + id);
    if (!el.hasClass('in')) { next(); return; }
    el.one('hidden.bs.modal', next).modal('hide');
  }

  function openForm() {
    var form = byId('cw-form');
    form.reset();
    showErrors(null, {});
    formBusy(false);
    $('#cw-form-modal').modal('show');
  }

  /* While ConnectWise checks the values: a note in the form, fields and Save locked. */
  function formBusy(on) {
    byId('cw-save').disabled = on;
    byId('cw-form-status').classList.toggle('hidden', !on);
    $('#cw-form .form-control').prop('disabled', on);
  }

  function watchValidation() {
    formWatch = {timer: null};
    var tick = function () {
      psaFetch(STATUS_URL, {method: 'GET'}).then(function (res) {
        if (!formWatch) { return; }  // the form was closed: the card follows the job now
        if (res.ok && res.body.validating) { formWatch.timer = setTimeout(tick, POLL_MS); return; }
        formWatch = null;
        formBusy(false);
        var s = res.body || {};
        if (res.ok && s.validation_failed) {
          showErrors(s.message + (s.hint ? ' ' + s.hint : ''), {});
          byId('cw-error-private_key').textContent = 'Enter the private key again.';
          byId('cw-group-private_key').classList.add('has-error');
          byId('cw-private_key').focus();
          return;
        }
        afterHidden('cw-form-modal', refresh);
      });
    };
    formWatch.timer = setTimeout(tick, POLL_MS);
  }

  function showErrors(message, errors) {
    var box = byId('cw-form-error');
    box.textContent = message || '';
    box.classList.toggle('hidden', !message);
    ['client_id', 'company_name', 'public_key', 'private_key', 'api_url'].forEach(function (name) {
      var text = (errors && errors[name]) ? [].concat(errors[name]).join(' ') : '';
      byId('cw-error-' + name).textContent = text;
      byId('cw-group-' + name).classList.toggle('has-error', !!text);
    });
  }

  function save(form) {
    var button = byId('cw-save');
    if (button.disabled) { return; }
    button.disabled = true;
    var body = {};
    ['client_id', 'company_name', 'public_key', 'private_key', 'api_url'].forEach(function (name) {
      body[name] = form.elements[name].value;
    });
    var method = form.getAttribute('data-mode') === 'edit' ? 'PUT' : 'POST';
    psaFetch(form.getAttribute('data-url'), {method: method, json: body}).then(function (res) {
      form.elements.private_key.value = '';
      if (res.ok) {
        showErrors(null, {});
        formBusy(true);
        watchValidation();
        return;
      }
      button.disabled = false;
      var msg = res.body.message;
      showErrors(typeof msg === 'string' ? msg : 'Please correct the highlighted fields; nothing was saved.',
                 res.body.errors || (typeof msg === 'object' ? msg : {}));
    });
  }

  function deactivate(button) {
    button.disabled = true;
    psaFetch('/api/v1/psa_integration/deactivate', {method: 'POST'}).then(function (res) {
      button.disabled = false;
      if (res.ok) { afterHidden('cw-deactivate-modal', refresh); return; }
      var box = byId('cw-deactivate-error');
      box.textContent = res.body.message || 'The integration could not be deactivated.';
      box.classList.remove('hidden');
    });
  }

  /* Re-render the card and the menu from the page itself (no manual reload). */
  function refresh() {
    fetch(window.location.pathname, {credentials: 'same-origin', headers: {'Accept': 'text/html'}})
      .then(function (resp) { return resp.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('connectwise-card');
        var navbar = document.querySelector('.navbar');
        var freshNavbar = doc.querySelector('.navbar');
        if (fresh && card()) { card().replaceWith(document.importNode(fresh, true)); }
        if (navbar && freshNavbar) { navbar.replaceWith(document.importNode(freshNavbar, true)); }
        startPolling();
        if (window.psaSync) { window.psaSync.refresh(); }  // the billing sync widget of an active card
      });
  }

  function card() { return byId('connectwise-card'); }

  function poll() {
    psaFetch(STATUS_URL, {method: 'GET'}).then(function (res) {
      if (res.ok && res.body.validating) { setTimeout(poll, POLL_MS); return; }
      polling = false;
      refresh();
    });
  }

  function startPolling() {
    if (!polling && card() && card().getAttribute('data-validating') === 'true') {
      polling = true;
      setTimeout(poll, POLL_MS);
    }
  }

  document.addEventListener('click', function (ev) {
    var target = ev.target.closest('[data-cw-open], #cw-confirm-ok, #cw-deactivate-ok');
    if (!target) { return; }
    var open = target.getAttribute('data-cw-open');
    if (open === 'confirm') { $('#cw-confirm-modal').modal('show'); }
    else if (open === 'form') { openForm(); }
    else if (open === 'deactivate') { byId('cw-deactivate-error').classList.add('hidden'); $('#cw-deactivate-modal').modal('show'); }
    else if (target.id === 'cw-confirm-ok') { afterHidden('cw-confirm-modal', openForm); }
    else if (target.id === 'cw-deactivate-ok') { deactivate(target); }
  });

  /* The form closed while the check runs: the card shows Validating… and follows the job. */
  $(document).on('hidden.bs.modal', '#cw-form-modal', function () {
    if (formWatch) { clearTimeout(formWatch.timer); formWatch = null; refresh(); }
  });
  /* A refusal shown in the form also changed the card behind it: refresh it once the form is closed. */
  $(document).on('hide.bs.modal', '#cw-form-modal', function () {
    if (!formWatch && !byId('cw-form-error').classList.contains('hidden')) { $(this).one('hidden.bs.modal', refresh); }
  });

  document.addEventListener('submit', function (ev) {
    if (ev.target.id === 'cw-form') { ev.preventDefault(); save(ev.target); }
  });

  startPolling();
})();
