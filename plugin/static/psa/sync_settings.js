/* Sync Settings: save the schedule, approval and request limit (PUT /api/v1/psa_sync/settings). */
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
      requests_per_minute: limitMode === 'custom' ? (limit === '' ? -1 : Number(limit)) : null
    };
  }
  function showErrors(errors) {
    $('.psa-field-error').text('');
    Object.keys(errors || {}).forEach(function (field) {
      $('[data-error-for="' + field.split('.')[0] + '"]').text([].concat(errors[field]).join(' '));
    });
  }
  function refresh(s) {
    $('#approval-now').text(s.approval_required ? 'required now' : 'not required now')
      .toggleClass('label-warning', s.approval_required).toggleClass('label-default', !s.approval_required);
    $('#next-run strong').text(s.next_run_local || '');
    if (!s.next_run_local) { $('#next-run').contents().first().replaceWith('No scheduled run. '); }
    $('#limit-now').text(s.effective_requests_per_minute || 'no limit');
  }

  $('#settings-form').on('submit', function (event) {
    event.preventDefault();
    showErrors({});
    $('#settings-save').prop('disabled', true);
    psaFetch(API, {method: 'PUT', json: values()}).then(function (resp) {
      $('#settings-save').prop('disabled', false);
      if (!resp.ok) {
        showErrors(resp.body.errors);
        return alertBox('danger', (resp.body.message || 'The settings were not saved.'));
      }
      refresh(resp.body);
      alertBox('success', 'Saved.' + (resp.body.next_run_local ? ' Next scheduled run: ' + resp.body.next_run_local + '.' : ''));
    });
  });
  $('#f-limit').on('focus input', function () { $('#f-limit-custom').prop('checked', true); });
  $('[data-when]').each(function () {
    var iso = this.getAttribute('data-when');
    if (iso) { this.textContent = new Date(iso).toLocaleString(); }
  });
})(jQuery);
