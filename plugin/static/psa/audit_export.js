/* Console → Audit Log, Export CSV: empty fields are left out of the query, so the API sees no filter rather than
   an empty one. */
(function () {
  var form = document.querySelector('#psa-audit-export form');
  if (!form) { return; }
  form.addEventListener('submit', function () {
    form.querySelectorAll('input, select').forEach(function (el) { el.disabled = !el.value; });
    setTimeout(function () { form.querySelectorAll('input, select').forEach(function (el) { el.disabled = false; }); }, 0);
  });
})();
