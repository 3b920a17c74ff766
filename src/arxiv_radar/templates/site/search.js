/* Client-side search over search-index.json. Plain JavaScript, no build step, no dependencies.
 *
 * search-index.json names the topics ([slug, name]) and the day data files, newest first:
 * the JSON exports themselves (exports/YYYY-MM/papers-YYYY-MM-DD.json.gz, schema in
 * arxiv_radar/schemas/papers.schema.json), which the day pages' abstracts come from too, so the
 * site holds each abstract once. They are fetched a few at a time, newest first, and results
 * are shown as they arrive (newest papers first, so the list only grows at its end). The files
 * are gzip-compressed and
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
  var PARALLEL = 6;

  var form = document.getElementById('search-form');
  var count = document.getElementById('count');
  var list = document.getElementById('results');
  var more = document.getElementById('more');
  var state = { papers: [], topics: [], slugIndex: {}, byName: {}, matches: [], shown: 0,
    pending: 0 };
  var timer = null;
  var arrival = null;

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

  function prepare(topics) {
    state.topics = topics;
    topics.forEach(function (topic, index) {
      state.slugIndex[topic[0]] = index;
      state.byName[topic[1]] = index;
    });
  }

  /* One day file's papers, appended: files arrive newest day first. */
  function add(papers) {
    var byName = state.byName;
    var added = papers.map(function (paper) {
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
    added.sort(function (a, b) {
      if (a.day !== b.day) { return a.day < b.day ? 1 : -1; }
      return a.id < b.id ? 1 : (a.id > b.id ? -1 : 0);
    });
    state.papers = state.papers.concat(added);
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
    count.textContent = (total === 1 ? '1 paper matches' : total + ' papers match') +
      (state.shown < total ? ', showing ' + state.shown : '') +
      (state.pending ? ' (still loading older days).' : '.');
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

  /* A day file arrived: show what matches so far, at most every DEBOUNCE_MS while loading. */
  function arrived() {
    if (arrival !== null) { return; }
    arrival = window.setTimeout(function () {
      arrival = null;
      var filters = readFilters();
      state.matches = state.papers.filter(function (paper) { return matches(paper, filters); });
      if (state.shown < LIMIT) {
        state.shown = 0;
        list.textContent = '';
      }
      showMore();
    }, state.pending ? DEBOUNCE_MS : 0);
  }

  function start(topics) {
    prepare(topics);
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

  /* Fetch the day files PARALLEL at a time but take them in the index's order (newest first),
   * so the results never reorder as older days arrive. */
  function load(urls) {
    var fetches = [];
    var next = 0;
    function launch() {
      if (next < urls.length) { fetches.push(getData(urls[next])); next += 1; }
    }
    function take(position) {
      if (position >= urls.length) { return Promise.resolve(); }
      return fetches[position].then(function (data) {
        launch();
        state.pending -= 1;
        add(data.papers);
        arrived();
        return take(position + 1);
      });
    }
    for (var i = 0; i < PARALLEL; i += 1) { launch(); }
    return take(0);
  }

  fetched(form.getAttribute('data-index'))
    .then(function (response) { return response.json(); })
    .then(function (index) {
      state.pending = index.data.length;
      start(index.topics);
      return load(index.data);
    })
    .catch(function (error) {
      count.textContent = 'Could not load the search index (' + error.message + ').';
    });
}());
