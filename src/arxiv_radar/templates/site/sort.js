/* "Sort: date | relevance" for a ranked topic's cards. Plain JavaScript, no build step.
 *
 * A sortable list is an <ol data-sort-default="date|relevance" id="papers-SLUG"> whose cards carry
 * data-id, data-day (YYYY-MM-DD) and data-score; its control is a hidden
 * <div class="sort-control" data-list="papers-SLUG"> of two buttons (shown here, so a page
 * without JavaScript never offers a control that does nothing). The server lists each topic in
 * its configured order (topics[].order); once a reader picks an order it applies to every list of
 * the page and is kept in the URL (?sort=relevance or ?sort=date), like the search filters.
 * Both orders keep the day groups, newest day first: by date, newest id first within a day (as
 * the server does); by relevance, highest score first within a day, ties newest id first.
 */
(function () {
  'use strict';

  var ORDERS = ['date', 'relevance'];

  function fromUrl() {
    var chosen = new URLSearchParams(location.search).get('sort');
    return ORDERS.indexOf(chosen) >= 0 ? chosen : null;
  }

  function newestFirst(a, b) {
    if (a.day !== b.day) { return a.day < b.day ? 1 : -1; }
    return a.id < b.id ? 1 : (a.id > b.id ? -1 : 0);
  }

  function compare(order) {
    return function (a, b) {
      if (order === 'relevance' && a.day === b.day && a.score !== b.score) {
        return b.score - a.score;
      }
      return newestFirst(a, b);
    };
  }

  function arrange(list, order) {
    var cards = Array.prototype.map.call(list.children, function (card) {
      return {
        card: card,
        day: card.dataset.day || '',
        id: card.dataset.id || '',
        score: parseFloat(card.dataset.score) || 0
      };
    });
    cards.sort(compare(order));
    cards.forEach(function (entry) { list.appendChild(entry.card); });
  }

  function show(control, order) {
    control.querySelectorAll('button[data-sort]').forEach(function (button) {
      button.setAttribute('aria-pressed', button.dataset.sort === order ? 'true' : 'false');
    });
  }

  function apply(controls, order) {
    controls.forEach(function (control) {
      var list = document.getElementById(control.dataset.list);
      var wanted = order || (list && list.dataset.sortDefault) || 'date';
      if (list) { arrange(list, wanted); }
      show(control, wanted);
    });
  }

  function remember(order) {
    var params = new URLSearchParams(location.search);
    params.set('sort', order);
    try {
      history.replaceState(null, '', '?' + params.toString() + location.hash);
    } catch (err) {
      /* file:// pages may refuse a URL change; the order still applies. */
    }
  }

  function start() {
    var controls = Array.prototype.slice.call(document.querySelectorAll('.sort-control[data-list]'));
    if (!controls.length) { return; }
    apply(controls, fromUrl());
    controls.forEach(function (control) {
      control.hidden = false;
      control.addEventListener('click', function (event) {
        var button = event.target.closest('button[data-sort]');
        if (!button || ORDERS.indexOf(button.dataset.sort) < 0) { return; }
        apply(controls, button.dataset.sort);
        remember(button.dataset.sort);
      });
    });
  }

  start();
}());
