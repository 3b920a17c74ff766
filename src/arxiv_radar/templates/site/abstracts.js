/* Abstracts and translations for a day page. Plain JavaScript, no build step, no dependencies.
 *
 * A day page carries no abstract text: the site holds each abstract once, in the day's data file
 * (exports/YYYY-MM/papers-YYYY-MM-DD.json.gz, schema in arxiv_radar/schemas/papers.schema.json),
 * which the search reads too. Each card has a slot, <details data-abstract="<arXiv id>">, whose
 * one paragraph (class "slot") links the abstract on arXiv; this script fetches the file named
 * by its own data-src, unpacks it (DecompressionStream; a server that sent Content-Encoding:
 * gzip has already done that, so gzip's magic bytes are checked first) and puts the abstract
 * and its translation in the slot in place of that paragraph, marking $...$ math in
 * <span class="math"> as the server-rendered pages do. Text only (textContent), so nothing in
 * the data can run. When the file cannot be read (file://, an old browser) the slots keep their
 * link to arXiv.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var slots = document.querySelectorAll('details[data-abstract]');
  if (!slots.length || !script || typeof DecompressionStream === 'undefined') { return; }

  /* Pandoc's rule, as site.mathify: no space inside the dollars, no digit after the closing one. */
  var MATH = /(?<!\\)\$\$[\s\S]+?(?<!\\)\$\$|(?<![\\$])\$[^\s$](?:[^$\n]*?[^\s$\\])?\$(?![\d$])/g;

  function paragraph(text, className) {
    var p = document.createElement('p');
    if (className) { p.className = className; }
    var last = 0;
    text.replace(MATH, function (match, offset) {
      p.appendChild(document.createTextNode(text.slice(last, offset)));
      var span = document.createElement('span');
      span.className = 'math';
      span.textContent = match;
      p.appendChild(span);
      last = offset + match.length;
      return match;
    });
    p.appendChild(document.createTextNode(text.slice(last)));
    return p;
  }

  function fill(data) {
    var byId = {};
    (data.papers || []).forEach(function (paper) { byId[paper.arxiv_id] = paper; });
    Array.prototype.forEach.call(slots, function (slot) {
      var paper = byId[slot.getAttribute('data-abstract')];
      var abstract = paper && (paper.abstract || '').trim();
      var translated = paper && (paper.abstract_translated || '').trim();
      if (!abstract && !translated) { return; }
      var placeholder = slot.querySelector('.slot');
      if (placeholder) { slot.removeChild(placeholder); }
      if (abstract) { slot.appendChild(paragraph(abstract, '')); }
      if (translated) { slot.appendChild(paragraph(translated, 'translated')); }
    });
  }

  function unpack(buffer) {
    var bytes = new Uint8Array(buffer);
    if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
      return new TextDecoder('utf-8').decode(bytes);
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text();
  }

  fetch(script.getAttribute('data-src'))
    .then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.arrayBuffer();
    })
    .then(unpack)
    .then(JSON.parse)
    .then(fill)
    .catch(function () { /* no data: each slot keeps its link to the abstract on arXiv */ });
}());
