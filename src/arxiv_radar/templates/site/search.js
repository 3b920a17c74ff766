/* Client-side search over search-index.json. Plain JavaScript, no build step, no dependencies.
 *
 * search-index.json names the topics ([slug, name]) and the month data files, newest first:
 * the JSON exports themselves (exports/papers-YYYY-MM.json.gz, schema in
 * arxiv_radar/schemas/papers.schema.json), so the site holds each abstract once besides its day
 * page, and a daily publish rewrites one or two of them. The files are gzip-compressed and
 * unpacked here with DecompressionStream; a server that sends them with Content-Encoding: gzip
 * has already unpacked them, so the body is checked for gzip's magic bytes (1f 8b) first.
 * Titles, authors, abstracts and translations are searched whole. Results are built with
 * textContent only, so nothing in the data can run.
 * The form fields mirror the URL query string (q, topic, from, to, code) so a search can be shared.
 */
(function () {
  'use strict';

  var LIMIT = 200;
  var AUTHORS_SHOWN = 10;
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

  function oneLine(text) {
    return (text || '').split(/\s+/).filter(Boolean).join(' ');
  }

  function authorsShown(names) {
    var shown = names.slice(0, AUTHORS_SHOWN).join(', ');
    var hidden = names.length - AUTHORS_SHOWN;
    return hidden > 0 ? shown + ' and ' + hidden + ' more' : shown;
  }

  function prepare(data) {
    var byName = {};
    state.topics = data.topics;
    data.topics.forEach(function (topic, index) {
      state.slugIndex[topic[0]] = index;
      byName[topic[1]] = index;
    });
    state.papers = data.papers.map(function (paper) {
      var texts = [paper.arxiv_id, paper.title, paper.authors.join(' '), paper.abstract,
        paper.title_translated || '', paper.abstract_translated || ''];
      return {
        id: paper.arxiv_id, title: oneLine(paper.title), authors: authorsShown(paper.authors),
        day: paper.day, code: paper.code_url || '',
        topics: paper.topics.filter(function (name) {
          return Object.prototype.hasOwnProperty.call(byName, name);
        }).map(function (name) { return byName[name]; }),
        hay: fold(texts.join(' '))
      };
    });
    /* Newest day first, then newest id, as the day pages list them. */
    state.papers.sort(function (a, b) {
      if (a.day !== b.day) { return a.day < b.day ? 1 : -1; }
      return a.id < b.id ? 1 : (a.id > b.id ? -1 : 0);
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

  function fetched(url) {
    return fetch(url).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response;
    });
  }

  function gunzip(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text();
  }

  function getData(url) {
    return fetched(url)
      .then(function (response) { return response.arrayBuffer(); })
      .then(function (buffer) {
        var bytes = new Uint8Array(buffer);
        var packed = bytes.length > 1 && bytes[0] === 0x1f && bytes[1] === 0x8b;
        return packed ? gunzip(bytes) : new TextDecoder('utf-8').decode(bytes);
      })
      .then(JSON.parse);
  }

  fetched(form.getAttribute('data-index'))
    .then(function (response) { return response.json(); })
    .then(function (index) {
      return Promise.all(index.data.map(getData)).then(function (months) {
        var papers = [];
        months.forEach(function (month) { papers = papers.concat(month.papers); });
        return { topics: index.topics, papers: papers };
      });
    })
    .then(start)
    .catch(function (error) {
      count.textContent = 'Could not load the search index (' + error.message + ').';
    });
}());
