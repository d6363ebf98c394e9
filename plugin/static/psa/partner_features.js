/* Distributor → Partner Features: Enable / Disable first asks, naming the partner and what it gains or loses;
   the form is sent only from the dialog. */
(function ($) {
  var pending = null;
  $(document).on('submit', 'form.psa-feature-form', function (event) {
    if (this === pending) { return; }  // confirmed: let it go
    event.preventDefault();
    var form = this, enable = form.getAttribute('data-enable') === '1', name = form.getAttribute('data-partner');
    var active = form.getAttribute('data-integration') === 'active';
    $('#feature-title').text((enable ? 'Enable' : 'Disable') + ' the ConnectWise integration for ' + name + '?');
    $('#feature-modal .feature-partner').text(name);
    $('#feature-enable').toggleClass('hidden', !enable);
    $('#feature-disable').toggleClass('hidden', enable);
    $('#feature-modal .feature-if-active').toggleClass('hidden', !active);
    $('#feature-confirm').text((enable ? 'Enable for ' : 'Disable for ') + name)
      .toggleClass('btn-danger', !enable).toggleClass('btn-primary', enable)
      .off('click').on('click', function () {
        this.disabled = true;
        pending = form;
        form.submit();
      });
    $('#feature-confirm').prop('disabled', false);
    $('#feature-modal').modal('show');
  });
})(jQuery);
