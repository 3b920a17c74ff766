/* Star badges for day and month pages. Plain JavaScript, no build step, no dependencies.
 *
 * Those pages are rendered again only when their papers change, so they carry no star count (a
 * monthly star refresh would leave it stale). Each Code link there carries data-stars="<arXiv id>";
 * this script reads exports/stars.json ({"v": 1, "stars": {"<arXiv id>": count}}, rewritten by
 * every publish whose counts changed) and adds "★ count" after the link. Without JavaScript, or
 * when the file cannot be read (file://), the Code link is simply shown alone. Text only
 * (textContent), so nothing in the data can run.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var links = document.querySelectorAll('a[data-stars]');
  if (!links.length || !script) { return; }

  function badge(count) {
    var span = document.createElement('span');
    span.className = 'stars';
    span.title = 'GitHub stars';
    span.textContent = '★ ' + count;
    return span;
  }

  function fill(data) {
    var stars = data.stars || {};
    Array.prototype.forEach.call(links, function (link) {
      var id = link.getAttribute('data-stars');
      if (Object.prototype.hasOwnProperty.call(stars, id) && typeof stars[id] === 'number') {
        link.parentNode.insertBefore(badge(stars[id]), link.nextSibling);
        link.parentNode.insertBefore(document.createTextNode(' '), link.nextSibling);
      }
    });
  }

  fetch(new URL('exports/stars.json', script.src).href)
    .then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    })
    .then(fill)
    .catch(function () { /* no counts: the Code links stay as they are */ });
}());
