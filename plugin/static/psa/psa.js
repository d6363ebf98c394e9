/* Shared helpers of the PSA pages: every XHR carries the CSRF token. */
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
})();
