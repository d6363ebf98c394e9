/* Shared helpers of the PSA pages: every XHR carries the CSRF token; one Prev / Page n of m / Next pager. */
(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.psaFetch = function (url, options) {
    options = options || {};
    options.credentials = 'same-origin';
    options.headers = Object.assign({'Accept': 'application/json'}, options.headers || {});
    if (meta && options.method && options.method !== 'GET') {
      options.headers['X-CSRFToken'] = meta.getAttribute('content');
    }
    if (options.json !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(options.json);
      delete options.json;
    }
    return fetch(url, options).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        return {ok: resp.ok, status: resp.status, body: body};
      });
    });
  };

  /* Prev / "Page n of m" / Next into the element `el` (empty when one page); onPage(p) loads page p. */
  window.psaPager = function (el, page, total, size, onPage) {
    var pages = Math.max(1, Math.ceil(total / size));
    var $el = $(el).empty();
    if (pages <= 1) { return; }
    var prev = $('<button type="button" class="btn btn-default btn-xs">&lsaquo; Prev</button>').prop('disabled', page <= 1);
    var next = $('<button type="button" class="btn btn-default btn-xs">Next &rsaquo;</button>').prop('disabled', page >= pages);
    prev.on('click', function () { onPage(page - 1); });
    next.on('click', function () { onPage(page + 1); });
    $el.append(prev, $('<span class="recon-page"></span>').text(' Page ' + page + ' of ' + pages + ' '), next);
  };
})();
