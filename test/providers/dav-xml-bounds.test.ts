/** The XML bounds every DAV answer passes before xmldom sees it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkXmlBounds, DavXmlError, MAX_XML_DEPTH, MAX_XML_NODES, parseMultistatus } from '../../src/providers/caldav/dav-xml.js';

const wrap = (inner: string): string => `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">${inner}</d:multistatus>`;
const nested = (depth: number): string => `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`;

describe('checkXmlBounds', () => {
  test('an ordinary multistatus passes and parses', () => {
    const xml = wrap('<d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>');
    assert.doesNotThrow(() => checkXmlBounds(xml));
    assert.equal(parseMultistatus(xml, 'http://h/cal/').length, 1);
  });

  test('nesting: the limit passes, one more level is refused', () => {
    // The multistatus element itself is one level.
    assert.doesNotThrow(() => checkXmlBounds(wrap(nested(MAX_XML_DEPTH - 1))));
    assert.throws(() => checkXmlBounds(wrap(nested(MAX_XML_DEPTH))), (err: unknown) => err instanceof DavXmlError && /deeper than 64/.test(err.message));
    assert.throws(() => parseMultistatus(wrap(nested(100_000)), 'http://h/'), DavXmlError);
  });

  test('self-closing elements, comments, CDATA and quoted ">" do not count as nesting', () => {
    const inner = `${'<b/>'.repeat(1000)}<!-- <a><a><a> -->${'<c x="a>b" y=\'<\'/>'.repeat(10)}<![CDATA[<a><a><a>]]>`;
    assert.doesNotThrow(() => checkXmlBounds(wrap(`<a>${inner}</a>`)));
  });

  test('a DOCTYPE is refused: no entity expansion, internal or external', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;&l;&l;&l;&l;&l;&l;">]><d:multistatus xmlns:d="DAV:">&l2;</d:multistatus>`;
    assert.throws(() => parseMultistatus(laughs, 'http://h/'), (err: unknown) => err instanceof DavXmlError && /document type/.test(err.message));
    const external = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d:multistatus xmlns:d="DAV:">&x;</d:multistatus>`;
    assert.throws(() => parseMultistatus(external, 'http://h/'), DavXmlError);
  });

  test('more elements and attributes than the cap are refused before parsing', () => {
    const started = Date.now();
    assert.throws(() => parseMultistatus(wrap('<x/>'.repeat(MAX_XML_NODES + 1)), 'http://h/'), (err: unknown) => err instanceof DavXmlError && /more than/.test(err.message));
    assert.throws(() => checkXmlBounds(wrap(`<x ${Array.from({ length: MAX_XML_NODES }, (_, i) => `a${i}="1"`).join(' ')}/>`)), DavXmlError);
    assert.ok(Date.now() - started < 3000, 'the scan is linear');
  });
});
