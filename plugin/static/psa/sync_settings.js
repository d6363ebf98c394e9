/* Sync Settings: save the schedule, approval and request limit (PUT /api/v1/psa_sync/settings). A field's error
   shows next to it, in plain words, once the user has left the field or pressed Save. */
(function ($) {
  var root = document.getElementById('sync-settings');
  if (!root) { return; }
  var API = root.getAttribute('data-api');

  function alertBox(kind, text) {
    $('#settings-alert').removeClass('hidden alert-success alert-danger').addClass('alert-' + kind).text(text);
  }
  function values() {
    var limitMode = $('input[name=limit-mode]:checked').val();
    var limit = $('#f-limit').val();
    return {
      schedule_enabled: $('#f-enabled').prop('checked'),
      schedule_time: $('#f-time').val(),
      schedule_days: $('input[name=day]:checked').map(function () { return this.value; }).get(),
      approval: $('input[name=approval]:checked').val(),
      requests_per_minute: limitMode === 'custom' ? (limit === '' ? -1 : Number(limit)) : null,
      create_list_values: $('#f-create-lists').prop('checked')
    };
  }
  var limitMax = Number($('#f-limit').attr('max')) || null;
  var LIMIT_TEXT = 'Enter a whole number of requests a minute' + (limitMax ? ', from 1 to ' + limitMax : ', 1 or more') +
    ', or choose Default.';
  /* What the user typed that cannot be saved, in the page's words (the API's own words are for API clients). */
  function localErrors(v) {
    var errors = {};
    if (v.requests_per_minute !== null) {
      var n = v.requests_per_minute;
      if (!(Number.isInteger(n) && n >= 1 && (!limitMax || n <= limitMax))) { errors.requests_per_minute = [LIMIT_TEXT]; }
    }
    if (v.schedule_enabled && !v.schedule_days.length) { errors.schedule_days = ['Choose at least one day, or turn the schedule off.']; }
    var hm = /^(\d{1,2}):(\d{2})$/.exec((v.schedule_time || '').trim());
    if (!hm || Number(hm[1]) > 23 || Number(hm[2]) > 59) { errors.schedule_time = ['Enter a time on the 24-hour clock, such as 06:00 or 18:30.']; }
    else { v.schedule_time = ('0' + Number(hm[1])).slice(-2) + ':' + hm[2]; }
    return errors;
  }
  function showErrors(errors, only) {
    var $boxes = only ? $('[data-error-for="' + only + '"]') : $('.psa-field-error');
    $boxes.text('').closest('.form-group, .panel-body').removeClass('has-error');
    Object.keys(errors || {}).forEach(function (field) {
      var name = field.split('.')[0];
      if (only && name !== only) { return; }
      var text = name === 'requests_per_minute' ? LIMIT_TEXT : [].concat(errors[field]).join(' ');
      $('[data-error-for="' + name + '"]').text(text).closest('.form-group, .panel-body').addClass('has-error');
    });
  }
  function refresh(s) {
    $('#approval-now').text(s.approval_required ? 'required now' : 'not required now')
      .toggleClass('label-warning', s.approval_required).toggleClass('label-default', !s.approval_required);
    $('#next-run-when').text(s.next_run_at ? 'Next scheduled run: ' + psaWhen(s.next_run_at, {weekday: true}) + '.' : 'No scheduled run.');
    $('#limit-now').text(s.effective_requests_per_minute || 'no limit');
  }

  $('#settings-form').on('submit', function (event) {
    event.preventDefault();
    var v = values(), mine = localErrors(v);
    showErrors(mine);
    if (Object.keys(mine).length) { return alertBox('danger', 'Please correct the fields marked in red; nothing was saved.'); }
    $('#settings-save').prop('disabled', true);
    psaFetch(API, {method: 'PUT', json: v}).then(function (resp) {
      $('#settings-save').prop('disabled', false);
      if (!resp.ok) {
        showErrors(resp.body.errors);
        return alertBox('danger', resp.body.errors ? 'Please correct the fields marked in red; nothing was saved.' :
          (resp.body.message || 'The settings were not saved.'));
      }
      refresh(resp.body);
      alertBox('success', 'Saved.' + (resp.body.next_run_at ? ' Next scheduled run: ' + psaWhen(resp.body.next_run_at, {weekday: true}) + '.' : ''));
    });
  });
  $('#f-limit').on('focus input', function () { $('#f-limit-custom').prop('checked', true); });
  /* Leaving the limit field checks it at once (the other fields cannot hold a wrong value). */
  $('#f-time').on('blur', function (event) {
    if (event.relatedTarget && event.relatedTarget.id === 'settings-save') { return; }
    showErrors(localErrors(values()), 'schedule_time');
  });
  $('#f-limit').on('blur', function (event) {
    if (event.relatedTarget && event.relatedTarget.id === 'settings-save') { return; }  // Save checks it (no jump under the click)
    showErrors(localErrors(values()), 'requests_per_minute');
  });
  $('input[name=limit-mode]').on('change', function () { if (this.value === 'default') { showErrors({}); } });
})(jQuery);
