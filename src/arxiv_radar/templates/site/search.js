/* Client-side search over search-index.json. Plain JavaScript, no build step, no dependencies.
 *
 * search-index.json names the topics and one shard per month (search/YYYY-MM.json, newest
 * first), so a daily publish rewrites one small shard instead of the whole index. Shard rows are
 * positional: [id, title, authors, day (YYYY-MM-DD), [topic indices], code url, abstract,
 * translated title and abstract]; every word of them is searchable. Results are built with textContent only, so nothing in the data can run.
 * The form fields mirror the URL query string (q, topic, from, to, code) so a search can be shared.
 */
(function () {
  'use strict';

  var LIMIT = 200;
  var DEBOUNCE_MS = 150;
  var FIELDS = ['q', 'topic', 'from', 'to', 'code'];

  var form = document.getElementById('search-form');
  var count = document.getElementById('count');
  var list = document.getElementById('results');
  var more = document.getElementById('more');
  var state = { papers: [], topics: [], slugIndex: {}, matches: [], shown: 0 };
  var timer = null;

  function fold(text) {
    return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  }

  function prepare(data) {
    state.topics = data.topics;
    data.topics.forEach(function (topic, index) { state.slugIndex[topic[0]] = index; });
    state.papers = data.papers.map(function (row) {
      return {
        id: row[0], title: row[1], authors: row[2], day: row[3], topics: row[4], code: row[5],
        hay: fold([row[0], row[1], row[2], row[6], row[7] || ''].join(' '))
      };
    });
  }

  function readFilters() {
    return {
      terms: fold(form.elements.q.value).split(/\s+/).filter(Boolean),
      topic: form.elements.topic.value,
      from: form.elements.from.value,
      to: form.elements.to.value,
      code: form.elements.code.checked
    };
  }

  function matches(paper, filters) {
    if (filters.topic && paper.topics.indexOf(state.slugIndex[filters.topic]) < 0) { return false; }
    if (filters.from && paper.day < filters.from) { return false; }
    if (filters.to && paper.day > filters.to) { return false; }
    if (filters.code && !paper.code) { return false; }
    return filters.terms.every(function (term) { return paper.hay.indexOf(term) >= 0; });
  }

  function link(href, text, className) {
    var anchor = document.createElement('a');
    anchor.href = href;
    anchor.textContent = text;
    if (className) { anchor.className = className; }
    return anchor;
  }

  function render(paper) {
    var item = document.createElement('li');
    item.className = 'result';
    var title = document.createElement('h2');
    title.className = 'paper-title';
    title.appendChild(link('https://arxiv.org/abs/' + paper.id, paper.title));
    var meta = document.createElement('p');
    meta.className = 'meta';
    meta.appendChild(document.createTextNode(paper.authors + ' · '));
    meta.appendChild(link('days/' + paper.day + '.html', paper.day));
    meta.appendChild(document.createTextNode(' · ' + paper.id));
    paper.topics.forEach(function (index) {
      meta.appendChild(document.createTextNode(' '));
      meta.appendChild(link('topics/' + state.topics[index][0] + '.html', state.topics[index][1], 'tag'));
    });
    if (paper.code) {
      meta.appendChild(document.createTextNode(' '));
      meta.appendChild(link(paper.code, 'Code', 'code'));
    }
    item.appendChild(title);
    item.appendChild(meta);
    return item;
  }

  function showMore() {
    var end = Math.min(state.shown + LIMIT, state.matches.length);
    var fragment = document.createDocumentFragment();
    for (var i = state.shown; i < end; i += 1) { fragment.appendChild(render(state.matches[i])); }
    list.appendChild(fragment);
    state.shown = end;
    more.hidden = state.shown >= state.matches.length;
    var total = state.matches.length;
    count.textContent = total === 1 ? '1 paper matches.' :
      total + ' papers match' + (state.shown < total ? ', showing ' + state.shown + '.' : '.');
  }

  function syncUrl() {
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var element = form.elements[name];
      var value = element.type === 'checkbox' ? (element.checked ? '1' : '') : element.value;
      if (value) { params.set(name, value); }
    });
    var query = params.toString();
    try {
      history.replaceState(null, '', query ? '?' + query : location.pathname);
    } catch (error) {
      /* file:// pages may refuse; the search itself still works. */
    }
  }

  function apply() {
    window.clearTimeout(timer);
    var filters = readFilters();
    state.matches = state.papers.filter(function (paper) { return matches(paper, filters); });
    state.shown = 0;
    list.textContent = '';
    showMore();
    syncUrl();
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(apply, DEBOUNCE_MS);
  }

  function restore() {
    var params = new URLSearchParams(location.search);
    FIELDS.forEach(function (name) {
      var element = form.elements[name];
      var value = params.get(name) || '';
      if (element.type === 'checkbox') {
        element.checked = value === '1';
      } else if (element.tagName === 'SELECT') {
        element.value = Object.prototype.hasOwnProperty.call(state.slugIndex, value) ? value : '';
      } else {
        element.value = value;
      }
    });
  }

  function start(data) {
    prepare(data);
    restore();
    form.addEventListener('input', later);
    form.addEventListener('change', apply);
    form.addEventListener('submit', function (event) { event.preventDefault(); apply(); });
    more.addEventListener('click', showMore);
    apply();
  }

  function getJson(url) {
    return fetch(url).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    });
  }

  getJson(form.getAttribute('data-index'))
    .then(function (index) {
      return Promise.all(index.shards.map(getJson)).then(function (shards) {
        var papers = [];
        shards.forEach(function (shard) { papers = papers.concat(shard.papers); });
        return { topics: index.topics, papers: papers };
      });
    })
    .then(start)
    .catch(function (error) {
      count.textContent = 'Could not load the search index (' + error.message + ').';
    });
}());
