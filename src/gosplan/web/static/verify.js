/* Verify an RFC 9162 inclusion proof in the browser: the entry's exact bytes hash to the
   leaf, and the audit path leads from the leaf to the root of the signed tree head.
   Uses WebCrypto where the page is a secure context, else a small SHA-256 below. */
"use strict";

function hexToBytes(hex) {
  var out = new Uint8Array(hex.length / 2);
  for (var i = 0; i < out.length; i++) { out[i] = parseInt(hex.substr(i * 2, 2), 16); }
  return out;
}
function bytesToHex(b) {
  return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
}
function concat() {
  var n = 0, i, off = 0;
  for (i = 0; i < arguments.length; i++) { n += arguments[i].length; }
  var out = new Uint8Array(n);
  for (i = 0; i < arguments.length; i++) { out.set(arguments[i], off); off += arguments[i].length; }
  return out;
}
var K = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
function sha256Sync(msg) {
  var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  var l = msg.length, n = ((l + 9 + 63) >> 6) << 6, m = new Uint8Array(n), w = new Array(64), i, t;
  m.set(msg); m[l] = 0x80;
  var bits = l * 8;
  for (i = 0; i < 8; i++) { m[n - 1 - i] = (i < 4) ? (bits >>> (8 * i)) & 0xff : Math.floor(bits / Math.pow(2, 8 * i)) & 0xff; }
  function r(x, k) { return (x >>> k) | (x << (32 - k)); }
  for (var o = 0; o < n; o += 64) {
    for (i = 0; i < 16; i++) { w[i] = (m[o + 4 * i] << 24) | (m[o + 4 * i + 1] << 16) | (m[o + 4 * i + 2] << 8) | m[o + 4 * i + 3]; }
    for (i = 16; i < 64; i++) {
      var s0 = r(w[i - 15], 7) ^ r(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      var s1 = r(w[i - 2], 17) ^ r(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (i = 0; i < 64; i++) {
      var t1 = (hh + (r(e, 6) ^ r(e, 11) ^ r(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      var t2 = ((r(a, 2) ^ r(a, 13) ^ r(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    t = [a, b, c, d, e, f, g, hh];
    for (i = 0; i < 8; i++) { h[i] = (h[i] + t[i]) | 0; }
  }
  var out = new Uint8Array(32);
  for (i = 0; i < 8; i++) { out[4 * i] = h[i] >>> 24; out[4 * i + 1] = (h[i] >>> 16) & 0xff; out[4 * i + 2] = (h[i] >>> 8) & 0xff; out[4 * i + 3] = h[i] & 0xff; }
  return out;
}
async function sha256(bytes) {
  if (window.crypto && window.crypto.subtle) {
    return new Uint8Array(await window.crypto.subtle.digest("SHA-256", bytes));
  }
  return sha256Sync(bytes);
}
async function leafHash(data) { return sha256(concat(new Uint8Array([0]), data)); }
async function nodeHash(l, r) { return sha256(concat(new Uint8Array([1]), l, r)); }

/* RFC 9162 section 2.1.3.2 */
async function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) { return false; }
  var fn = index, sn = size - 1, r = leaf;
  for (var i = 0; i < proof.length; i++) {
    var p = proof[i];
    if (sn === 0) { return false; }
    if ((fn & 1) || fn === sn) {
      r = await nodeHash(p, r);
      if (!(fn & 1)) { while (!((fn & 1) || fn === 0)) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesToHex(r) === bytesToHex(root);
}

/* the words come from the page (data-*-text, translated on the server), with {name} slots */
function words(out, key, fallback, slots) {
  var text = out.getAttribute("data-" + key + "-text") || fallback;
  return text.replace(/\{(\w+)\}/g, function (m, name) { return name in slots ? String(slots[name]) : m; });
}

async function runVerify() {
  var box = document.getElementById("proof-data");
  var out = document.getElementById("proof-result");
  if (!box || !out) { return; }
  var d = JSON.parse(box.textContent);
  var lang = document.documentElement.lang || "en";
  var data = new TextEncoder().encode(d.leaf_data);
  var leaf = await leafHash(data);
  var steps = [];
  var leafOk = bytesToHex(leaf) === d.leaf_hash;
  steps.push((leafOk ? "✔ " : "✘ ") + words(out, "leaf", "the entry's bytes hash to leaf {leaf}…", { leaf: bytesToHex(leaf).slice(0, 16) }));
  var ok = await verifyInclusion(d.index, d.tree_size, leaf, d.inclusion_proof.map(hexToBytes), hexToBytes(d.root_hash));
  var when;
  try {
    when = new Date(d.timestamp).toLocaleString(lang, { timeZone: "UTC", dateStyle: "medium", timeStyle: "medium" }) + " UTC";
  } catch (e) {
    when = new Date(d.timestamp).toISOString();
  }
  steps.push((ok ? "✔ " : "✘ ") + words(out, "path",
    "the {n}-step audit path leads to the root {root}… of the tree of {size} entries signed at {when}",
    { n: d.inclusion_proof.length, root: d.root_hash.slice(0, 16), size: d.tree_size.toLocaleString(lang), when: when }));
  var good = leafOk && ok;
  out.className = good ? "ok" : "error";
  out.dataset.verified = good ? "yes" : "no";
  out.textContent = (good ? words(out, "verified", "Verified in your browser", {}) : words(out, "failed", "NOT verified", {})) + ": " + steps.join("; ") + ".";
}

document.addEventListener("DOMContentLoaded", function () {
  var b = document.getElementById("verify-button");
  if (b) { b.addEventListener("click", function (ev) { ev.preventDefault(); runVerify(); }); runVerify(); }
});
